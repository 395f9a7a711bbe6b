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


def pending_commission(network: Network, affiliate_ids: list[int] | None) -> dict[tuple[int, str], int]:
    """Pending and held commission per (affiliate, currency): the `pending` balance (payouts' registered source)."""
    from django.db.models import Sum

    queryset = Conversion.objects.for_network(network).filter(
        status__in=[Conversion.Status.PENDING, Conversion.Status.HOLD], affiliate__isnull=False)
    if affiliate_ids is not None:
        queryset = queryset.filter(affiliate_id__in=affiliate_ids)
    rows = queryset.values_list("affiliate_id", "currency").annotate(total=Sum("commission_minor"))
    return {(affiliate_id, currency): total for affiliate_id, currency, total in rows if total}


def pending_cost(network: Network, merchant_ids: list[int], since: datetime) -> dict[tuple[int, str], int]:
    """Pending cost (commission + network fee) per (merchant, currency) since a time, for the funding forecast.

    One query: the merchant's fee override comes along in the same aggregate.
    """
    from types import SimpleNamespace

    from django.db.models import Count, Sum

    from network import money
    from payouts import fees

    rows = (Conversion.objects.for_network(network)
            .filter(status__in=[Conversion.Status.PENDING, Conversion.Status.HOLD], affiliate__isnull=False,
                    merchant_id__in=merchant_ids, occurred_at__gte=since)
            .values_list("merchant_id", "currency", "merchant__fee_type", "merchant__fee_rate",
                         "merchant__fee_flat_minor")
            .annotate(commission=Sum("commission_minor"), amount=Sum("amount_minor"), n=Count("pk")))
    found: dict[tuple[int, str], int] = {}
    for merchant_id, currency, fee_type, fee_rate, fee_flat, commission, amount, count in rows:
        merchant = SimpleNamespace(fee_type=fee_type, fee_rate=fee_rate, fee_flat_minor=fee_flat)
        terms = fees.fee_terms(network=network, merchant=merchant)  # type: ignore[arg-type]
        # A forecast, not a charge: the fee is estimated on the sums (the ledger rounds per conversion).
        if terms.fee_type == network.FeeType.PERCENT_OF_COMMISSION:
            fee = money.apply_rate(commission or 0, terms.rate)
        elif terms.fee_type == network.FeeType.PERCENT_OF_SALE:
            fee = money.apply_rate(amount or 0, terms.rate)
        else:
            fee = terms.flat_minor * count if currency == terms.flat_currency else 0
        key = (merchant_id, currency)
        found[key] = found.get(key, 0) + (commission or 0) + fee
    return found


def review_queue(queryset: QuerySet[Conversion]) -> QuerySet[Conversion]:
    """Pending and held conversions, held first then the oldest: what a merchant decides next."""
    from django.db.models import Case, IntegerField, Value, When

    return (queryset.filter(status__in=[Conversion.Status.PENDING, Conversion.Status.HOLD])
            .select_related("program", "affiliate")
            .annotate(held_first=Case(When(status=Conversion.Status.HOLD, then=Value(0)), default=Value(1),
                                      output_field=IntegerField()))
            .order_by("held_first", "occurred_at", "id"))
