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
