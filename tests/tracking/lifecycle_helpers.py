"""Builders for lifecycle, reconciliation and claims tests: attributed conversions and ledger snapshots."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.utils import timezone

from payouts import selectors as payout_selectors
from payouts.models import LedgerEntry, LedgerTransaction
from tests.tracking.factories import click_for, link_for
from tracking import services
from tracking.models import Conversion, ConversionEvent


def conversion_for(tenant, *, order_id: str = "A-1", amount: str = "100.00", occurred_at: datetime | None = None,
                   program=None, affiliate=None, link=None) -> Conversion:
    """An attributed, pending conversion of the tenant's affiliate (click id door)."""
    occurred_at = occurred_at or timezone.now() - timedelta(minutes=5)
    program = program or tenant.program
    link = link or link_for(tenant, program=program, affiliate=affiliate)
    click = click_for(link, created_at=occurred_at - timedelta(hours=1), visitor_hash=f"v-{order_id}",
                      ip_hash=f"ip-{order_id}")
    conversion, created = services.record_conversion(
        program=program, order_id=order_id, amount=amount, currency=program.currency, source=Conversion.Source.API,
        click_id=click.click_id, occurred_at=occurred_at, now=occurred_at)
    assert created and conversion.status == Conversion.Status.PENDING, conversion.status_reason
    return conversion


def snapshot() -> tuple[int, int, int, list[tuple]]:
    """Counts of ledger transactions, entries and conversion events, and every conversion's state."""
    return (LedgerTransaction.objects.count(), LedgerEntry.objects.count(), ConversionEvent.objects.count(),
            list(Conversion.objects.order_by("pk").values_list("pk", "status", "reversed_amount_minor",
                                                               "reason_code")))


def ledger_hash(network) -> str:
    """A hash of the network's entries sorted by what they mean (key, account kind and owner, amount)."""
    rows = sorted(LedgerEntry.objects.for_network(network).values_list(
        "transaction__idempotency_key", "account__kind", "account__merchant_id", "account__affiliate_id",
        "amount_minor", "currency"), key=repr)
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def entries_by_key(network) -> dict[str, list[tuple[str, int]]]:
    found: dict[str, list[tuple[str, int]]] = {}
    for key, kind, amount in LedgerEntry.objects.for_network(network).order_by("pk").values_list(
            "transaction__idempotency_key", "account__kind", "amount_minor"):
        found.setdefault(key, []).append((kind, amount))
    return {key: sorted(value) for key, value in found.items()}


def balance_of(tenant, affiliate=None):
    affiliate = affiliate or tenant.affiliate
    found = payout_selectors.affiliate_balances(network=tenant.network, affiliate_ids=[affiliate.pk])
    return found[0] if found else None
