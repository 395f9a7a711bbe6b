"""Reads of the tracking app (network first)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from merchants.models import Program
from network.models import Network
from tracking.models import Click, Conversion, StripeIntegration


def conversions_for_list(queryset: QuerySet[Conversion]) -> QuerySet[Conversion]:
    """The conversion list's joins, so a page of rows costs a fixed number of queries."""
    return queryset.select_related("program", "affiliate").order_by("-occurred_at", "-id")


def filter_conversions(queryset: QuerySet[Conversion], params: Any) -> QuerySet[Conversion]:
    """Apply the list filters shared by pages: status, program, date from/to (inclusive days)."""
    status = params.get("status") or ""
    if status in Conversion.Status.values:
        queryset = queryset.filter(status=status)
    program = params.get("program") or ""
    if str(program).isdigit():
        queryset = queryset.filter(program_id=int(program))
    for name, lookup in (("from", "occurred_at__gte"), ("to", "occurred_at__lt")):
        value = params.get(name) or ""
        try:
            day = date.fromisoformat(value) if value else None
        except ValueError:
            day = None
        if day is not None:
            moment = datetime.combine(day + timedelta(days=1 if name == "to" else 0), time.min, tzinfo=timezone.UTC)
            queryset = queryset.filter(**{lookup: moment})
    return queryset


def programs_of_merchant(network: Network, merchant_id: int) -> QuerySet[Program]:
    """The merchant's programs, for filters and the integration page."""
    return Program.objects.for_network(network).filter(merchant_id=merchant_id).order_by("name")


def stripe_integrations_by_program(network: Network, program_ids: list[int]) -> dict[int, StripeIntegration]:
    """The Stripe endpoint of each program that has one."""
    rows = StripeIntegration.objects.for_network(network).filter(program_id__in=program_ids)
    return {row.program_id: row for row in rows}


def click_count(network: Network, *, program_id: int | None = None) -> int:
    """Clicks stored in the network (optionally one program's)."""
    queryset = Click.objects.for_network(network)
    if program_id is not None:
        queryset = queryset.filter(program_id=program_id)
    return queryset.count()
