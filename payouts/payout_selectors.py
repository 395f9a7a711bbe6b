"""Reads of affiliate payouts (network first): batch totals and exceptions, portal summary, L8 check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from network.models import Network
from payouts import payout_services, selectors
from payouts.models import LedgerAccount, LedgerEntry, Payout, PayoutBatch, PayoutProfile


def batches(*, network: Network) -> QuerySet:
    """The network's batches, newest first, with their payout count and total per batch."""
    return (PayoutBatch.objects.for_network(network).select_related("built_by", "approved_by")
            .annotate(payout_count=Count("payouts")).order_by("-built_at", "-pk"))


def batch_totals(*, batch: PayoutBatch) -> list[dict[str, Any]]:
    """Per method and currency: payouts and amount (removed payouts left out)."""
    rows = (batch.payouts.exclude(status=Payout.Status.REMOVED).values("method", "currency")
            .annotate(count=Count("pk"), total_minor=Sum("amount_minor")).order_by("method", "currency"))
    return list(rows)


def failed_before(*, network: Network, batch: PayoutBatch) -> set[int]:
    """Affiliates of this batch whose payout in an earlier batch failed or came back (review them)."""
    affiliate_ids = batch.payouts.values("affiliate_id")
    return set(Payout.objects.for_network(network)
               .filter(affiliate_id__in=affiliate_ids, status__in=[Payout.Status.FAILED, Payout.Status.RETURNED])
               .exclude(batch=batch).values_list("affiliate_id", flat=True))


def profile_for(*, network: Network, affiliate_id: int) -> PayoutProfile | None:
    """The affiliate's payout profile, if any."""
    return PayoutProfile.objects.for_network(network).filter(affiliate_id=affiliate_id).first()


@dataclass(frozen=True)
class ExpectedPayout:
    """What the next batch would pay in one currency, or why not."""

    currency: str
    available_minor: int
    threshold_minor: int
    reaches_threshold: bool


@dataclass(frozen=True)
class PortalSummary:
    """The affiliate's payouts page: profile, hold reasons, next date and amounts."""

    profile: PayoutProfile | None
    hold_reasons: list[str]
    next_date: date
    expected: list[ExpectedPayout]


def portal_summary(*, network: Network, affiliate: Any, now: datetime | None = None) -> PortalSummary:
    """Hold reasons, the next payout date and per currency what it would pay (threshold rule)."""
    now = now or timezone.now()
    profile = profile_for(network=network, affiliate_id=affiliate.pk)
    threshold = payout_services.threshold_for(network=network, profile=profile)
    expected = [ExpectedPayout(currency=b.currency, available_minor=b.available_minor, threshold_minor=threshold,
                               reaches_threshold=b.available_minor >= threshold)
                for b in selectors.affiliate_balances(network=network, affiliate_ids=[affiliate.pk])
                if b.available_minor != 0]
    return PortalSummary(profile=profile, hold_reasons=payout_services.hold_reasons(profile=profile, affiliate=affiliate),
                         next_date=payout_services.next_payout_date(network=network, now=now), expected=expected)


def in_transit_check(*, network: Network) -> dict[str, tuple[int, int]]:
    """Per currency: (payouts-in-transit balance, Σ open payouts). They must be equal (L8)."""
    transit = {row["currency"]: -row["total"] for row in LedgerEntry.objects.for_network(network)
               .filter(account__kind=LedgerAccount.Kind.PAYOUTS_IN_TRANSIT).values("currency")
               .annotate(total=Sum("amount_minor"))}
    open_sum = {row["currency"]: row["total"] for row in Payout.objects.for_network(network)
                .filter(status__in=Payout.OPEN_STATUSES).values("currency").annotate(total=Sum("amount_minor"))}
    return {currency: (transit.get(currency, 0), open_sum.get(currency, 0))
            for currency in sorted(set(transit) | set(open_sum))}
