"""Periodic tasks of the payouts app (thin: one service call per network)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from network.models import Network
from payouts import services


@shared_task(acks_late=True)
def refresh_funding_status(network_id: int | None = None) -> None:
    """Recompute programs' funding status (and pause exhausted ones where the network opted in)."""
    networks = Network.objects.filter(pk=network_id) if network_id else Network.objects.all()
    for network in networks.iterator():
        services.refresh_funding_status(network=network)


@shared_task(acks_late=True)
def issue_invoices(network_id: int | None = None, period: str | None = None) -> None:
    """Issue last month's invoices (or those of `period`, an ISO date in the month); reruns issue nothing new."""
    networks = Network.objects.filter(pk=network_id) if network_id else Network.objects.all()
    for network in networks.iterator():
        month = date.fromisoformat(period) if period else services.previous_month(network=network)
        services.issue_invoices(network=network, period=month)


# --- Payouts: thin tasks; the services make every run safe to repeat (docs/payouts.md). ---

from payouts import payout_services  # noqa: E402
from payouts.providers import ProviderUnavailable  # noqa: E402


@shared_task(acks_late=True)
def build_due_payouts(network_id: int | None = None, now: str | None = None) -> None:
    """Hourly: build the batch of each network whose payout period is due (a rerun builds nothing)."""
    from datetime import datetime

    moment = datetime.fromisoformat(now) if now else None
    networks = Network.objects.filter(pk=network_id) if network_id else Network.objects.all()
    for network in networks.iterator():
        payout_services.build_payout_batch(network=network, now=moment)


@shared_task(acks_late=True, autoretry_for=(ProviderUnavailable,), retry_backoff=True, retry_backoff_max=600,
             max_retries=8)
def submit_payout_batch(network_id: int, batch_id: int) -> None:
    """Send an approved batch; a transient provider error retries with the same keys."""
    payout_services.submit_payout_batch(network=Network.objects.get(pk=network_id), batch_id=batch_id)


@shared_task(acks_late=True)
def poll_payouts(network_id: int | None = None) -> None:
    """Every few minutes: ask providers about sent payouts, recover stale claims, rerun settled hooks."""
    networks = Network.objects.filter(pk=network_id) if network_id else Network.objects.all()
    for network in networks.iterator():
        payout_services.poll_payouts(network=network)
