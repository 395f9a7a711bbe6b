"""Periodic tasks of the tracking app: thin wrappers, idempotent, `acks_late` (a killed worker's run is redone)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from tracking import metrics, reconcile


@shared_task(acks_late=True)
def reconcile_all_networks(now: str | None = None) -> str:
    """Approve due conversions, act on refunds and close tier months in every network (hourly on beat)."""
    moment = datetime.fromisoformat(now) if now else None
    return reconcile.reconcile(now=moment).line()


@shared_task(acks_late=True)
def refresh_program_metrics() -> int:
    """Recompute the marketplace figures of every program from the last 90 days (every 15 minutes)."""
    return metrics.refresh_program_metrics()
