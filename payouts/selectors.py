"""Reads of the payouts app (network first): balances, trial balance, funding status, invoices.

Every balance is derived from ledger entries at read time (L3): there are no cached totals.

Pending commission is not in the ledger: a conversion accrues only when it is approved. The tracking
app, which knows pending conversions, registers providers with `register_pending_source` (per
affiliate and currency) and `register_pending_cost_source` (per merchant and currency, for the
funding forecast). With none registered, pending is 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from network.models import Network
from payouts.models import (
    Invoice,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    MerchantFunding,
    NetworkBillingSettings,
)

AccountKind = LedgerAccount.Kind
TxnKind = LedgerTransaction.Kind

FUNDED, LOW, UNFUNDED = "funded", "low", "unfunded"
FUNDING_STATUSES = (FUNDED, LOW, UNFUNDED)
FUNDING_LOOKBACK_DAYS = 30

# (network, affiliate ids or None for all) -> {(affiliate_id, currency): pending minor}
PendingSource = Callable[[Network, list[int] | None], dict[tuple[int, str], int]]
# (network, merchant ids, since) -> {(merchant_id, currency): pending cost (commission + fee) minor}
PendingCostSource = Callable[[Network, list[int], datetime], dict[tuple[int, str], int]]
_pending_sources: list[PendingSource] = []
_pending_cost_sources: list[PendingCostSource] = []


def register_pending_source(source: PendingSource) -> None:
    """Register a provider of affiliates' pending commission (call from AppConfig.ready)."""
    if source not in _pending_sources:
        _pending_sources.append(source)


def register_pending_cost_source(source: PendingCostSource) -> None:
    """Register a provider of merchants' pending cost since a time (call from AppConfig.ready)."""
    if source not in _pending_cost_sources:
        _pending_cost_sources.append(source)


@dataclass(frozen=True)
class AffiliateBalance:
    """An affiliate's money in one currency, in minor units."""

    affiliate_id: int
    currency: str
    pending_minor: int
    approved_minor: int  # approved and not yet paid, including what is reserved in transit
    reserved_minor: int  # in transit to the affiliate
    paid_minor: int  # settled to the affiliate, net of returned payouts
    available_minor: int  # approved − reserved: what the next payout may take


def _affiliate_sums(network: Network, affiliate_ids: list[int] | None) -> dict[tuple[int, str, str], int]:
    entries = LedgerEntry.objects.for_network(network).filter(account__kind__in=LedgerAccount.AFFILIATE_KINDS)
    if affiliate_ids is not None:
        entries = entries.filter(account__affiliate_id__in=affiliate_ids)
    rows = entries.values("account__affiliate_id", "account__kind", "currency").annotate(total=Sum("amount_minor"))
    return {(row["account__affiliate_id"], row["account__kind"], row["currency"]): row["total"] for row in rows}


def _affiliate_paid(network: Network, affiliate_ids: list[int] | None) -> dict[tuple[int, str], int]:
    # Paid = what flowed between the affiliate's accounts and the provider clearing (settlements minus returns).
    entries = LedgerEntry.objects.for_network(network).filter(
        account__kind__in=LedgerAccount.AFFILIATE_KINDS,
        transaction__kind__in=[TxnKind.PAYOUT_SETTLE, TxnKind.PAYOUT_RETURN],
    )
    if affiliate_ids is not None:
        entries = entries.filter(account__affiliate_id__in=affiliate_ids)
    rows = entries.values("account__affiliate_id", "currency").annotate(total=Sum("amount_minor"))
    return {(row["account__affiliate_id"], row["currency"]): row["total"] for row in rows}


def affiliate_balances(*, network: Network, affiliate_ids: list[int] | None = None) -> list[AffiliateBalance]:
    """Balances per (affiliate, currency), ordered; `affiliate_ids=None` means every affiliate (staff)."""
    sums = _affiliate_sums(network, affiliate_ids)
    paid = _affiliate_paid(network, affiliate_ids)
    pending: dict[tuple[int, str], int] = defaultdict(int)
    for source in _pending_sources:
        for key, value in source(network, affiliate_ids).items():
            pending[key] += value
    keys = {(affiliate_id, currency) for affiliate_id, _, currency in sums} | set(paid) | set(pending)
    result = []
    for affiliate_id, currency in sorted(keys):
        available = -sums.get((affiliate_id, AccountKind.AFFILIATE_PAYABLE, currency), 0)
        reserved = -sums.get((affiliate_id, AccountKind.PAYOUTS_IN_TRANSIT, currency), 0)
        result.append(AffiliateBalance(
            affiliate_id=affiliate_id, currency=currency, pending_minor=pending.get((affiliate_id, currency), 0),
            approved_minor=available + reserved, reserved_minor=reserved,
            paid_minor=paid.get((affiliate_id, currency), 0), available_minor=available,
        ))
    return result


def merchant_balances(*, network: Network, merchant_ids: Iterable[int] | None = None) -> dict[tuple[int, str], int]:
    """Prepaid balance per (merchant, currency): funding minus charges; negative means the merchant owes."""
    entries = LedgerEntry.objects.for_network(network).filter(account__kind=AccountKind.MERCHANT_BALANCE)
    if merchant_ids is not None:
        entries = entries.filter(account__merchant_id__in=list(merchant_ids))
    rows = entries.values("account__merchant_id", "currency").annotate(total=Sum("amount_minor"))
    return {(row["account__merchant_id"], row["currency"]): -row["total"] for row in rows}


def trial_balance(*, network: Network) -> dict[str, int]:
    """Σ of every entry per currency; each must be 0 (L1)."""
    rows = LedgerEntry.objects.for_network(network).values("currency").annotate(total=Sum("amount_minor"))
    return {row["currency"]: row["total"] for row in rows.order_by("currency")}


def account_balances(*, network: Network) -> QuerySet:
    """Every account with its balance (Σ of entries, +debit/−credit) and owner names, for the console."""
    return (LedgerAccount.objects.for_network(network)
            .select_related("merchant", "affiliate")
            .annotate(balance_minor=Sum("entries__amount_minor"), entry_count=Count("entries"))
            .order_by("currency", "kind", "merchant__name", "affiliate__name", "pk"))


def recent_transactions(*, network: Network, limit: int = 50) -> QuerySet:
    """The latest transactions, newest first."""
    return LedgerTransaction.objects.for_network(network).order_by("-created_at", "-pk")[:limit]


def billing_settings(*, network: Network) -> NetworkBillingSettings:
    """The network's billing settings (defaults when never saved; not written by a read)."""
    found = NetworkBillingSettings.objects.filter(network=network).first()
    return found or NetworkBillingSettings(network=network)


def merchant_daily_cost(*, network: Network, merchant_ids: list[int], now: datetime) -> dict[tuple[int, str], int]:
    """Average daily cost (commission + fee, approved net of reversals, plus pending) over the last 30 days."""
    since = now - timedelta(days=FUNDING_LOOKBACK_DAYS)
    rows = (LedgerEntry.objects.for_network(network)
            .filter(account__kind=AccountKind.MERCHANT_BALANCE, account__merchant_id__in=merchant_ids,
                    transaction__kind__in=[TxnKind.APPROVAL, TxnKind.REVERSAL, TxnKind.BONUS],
                    transaction__occurred_at__gte=since, transaction__occurred_at__lt=now)
            .values("account__merchant_id", "currency").annotate(total=Sum("amount_minor")))
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for row in rows:
        totals[(row["account__merchant_id"], row["currency"])] += row["total"]
    for source in _pending_cost_sources:
        for key, value in source(network, merchant_ids, since).items():
            totals[key] += value
    # Integer division rounds down; the forecast is a traffic light, not an amount anyone is charged.
    return {key: max(total, 0) // FUNDING_LOOKBACK_DAYS for key, total in totals.items()}


def funding_status(*, balance_minor: int, daily_cost_minor: int, horizon_days: int) -> str:
    """Funded when the balance covers the horizon's expected cost, low when it covers less, else unfunded."""
    if balance_minor <= 0:
        return UNFUNDED
    if balance_minor >= daily_cost_minor * horizon_days:
        return FUNDED
    return LOW


def funding_status_for_programs(network: Network, program_ids: Iterable[int], *,
                                now: datetime | None = None) -> dict[int, str]:
    """Funding status per program (its merchant's balance in its currency); four queries for any number."""
    from merchants.models import Program

    now = now or timezone.now()
    programs = list(Program.objects.for_network(network).filter(pk__in=list(program_ids))
                    .values_list("pk", "merchant_id", "currency"))
    if not programs:
        return {}
    merchant_ids = sorted({merchant_id for _, merchant_id, _ in programs})
    balances = merchant_balances(network=network, merchant_ids=merchant_ids)
    daily = merchant_daily_cost(network=network, merchant_ids=merchant_ids, now=now)
    horizon = billing_settings(network=network).funding_horizon_days
    return {pk: funding_status(balance_minor=balances.get((merchant_id, currency), 0),
                               daily_cost_minor=daily.get((merchant_id, currency), 0), horizon_days=horizon)
            for pk, merchant_id, currency in programs}


def merchant_fundings(*, network: Network, merchant_id: int | None = None) -> QuerySet:
    """Recorded prepayments, newest first."""
    found = MerchantFunding.objects.for_network(network).select_related("merchant")
    return found.filter(merchant_id=merchant_id) if merchant_id is not None else found


def invoices(*, network: Network, merchant_id: int | None = None) -> QuerySet:
    """Issued invoices, newest number first."""
    found = Invoice.objects.for_network(network).select_related("merchant")
    return found.filter(merchant_id=merchant_id) if merchant_id is not None else found


def period_activity(*, network: Network, start: datetime, end: datetime,
                    merchant_id: int | None = None) -> list[dict[str, Any]]:
    """Per (merchant, currency, program, kind) in [start, end): transactions, cost and fee, from entries.

    Cost = Σ of the merchant-balance entries (debits for approvals, credits for reversals); fee = what
    network revenue took in the same transactions; commission = cost − fee.
    """
    merchant_of_transaction = (LedgerEntry.objects.filter(transaction=OuterRef("transaction"),
                                                          account__kind=AccountKind.MERCHANT_BALANCE)
                               .values("account__merchant_id")[:1])
    entries = (LedgerEntry.objects.for_network(network)
               .filter(transaction__kind__in=[TxnKind.APPROVAL, TxnKind.REVERSAL, TxnKind.BONUS],
                       transaction__occurred_at__gte=start, transaction__occurred_at__lt=end))
    merchant_rows = (entries.filter(account__kind=AccountKind.MERCHANT_BALANCE)
                     .filter(**({"account__merchant_id": merchant_id} if merchant_id is not None else {}))
                     .values("account__merchant_id", "currency", "transaction__program_id", "transaction__kind")
                     .annotate(cost=Sum("amount_minor"), transactions=Count("transaction", distinct=True)))
    fee_rows = (entries.filter(account__kind=AccountKind.NETWORK_REVENUE)
                .annotate(merchant_id=Subquery(merchant_of_transaction))
                .filter(**({"merchant_id": merchant_id} if merchant_id is not None else {}))
                .values("merchant_id", "currency", "transaction__program_id", "transaction__kind")
                .annotate(fee=Sum("amount_minor")))
    fees: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in fee_rows:
        fees[(row["merchant_id"], row["currency"], row["transaction__program_id"], row["transaction__kind"])] += \
            -row["fee"]
    result = []
    for row in merchant_rows:
        key = (row["account__merchant_id"], row["currency"], row["transaction__program_id"],
               row["transaction__kind"])
        fee = fees.get(key, 0)
        result.append({"merchant_id": key[0], "currency": key[1], "program_id": key[2], "kind": key[3],
                       "transactions": row["transactions"], "total_minor": row["cost"], "fee_minor": fee,
                       "commission_minor": row["cost"] - fee})
    return sorted(result, key=lambda r: (r["merchant_id"], r["currency"], r["program_id"] or 0, r["kind"]))


def merchant_cost_summary(*, network: Network, merchant_id: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per currency over the last 30 days: approvals, commission, fee and the average cost per conversion."""
    now = now or timezone.now()
    rows = period_activity(network=network, start=now - timedelta(days=FUNDING_LOOKBACK_DAYS), end=now,
                           merchant_id=merchant_id)
    by_currency: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["kind"] != TxnKind.APPROVAL:
            continue
        found = by_currency.setdefault(row["currency"], {"currency": row["currency"], "approvals": 0,
                                                         "commission_minor": 0, "fee_minor": 0, "total_minor": 0})
        for field in ("commission_minor", "fee_minor", "total_minor"):
            found[field] += row[field]
        found["approvals"] += row["transactions"]
    for found in by_currency.values():
        found["average_cost_minor"] = found["total_minor"] // found["approvals"] if found["approvals"] else 0
    return [by_currency[currency] for currency in sorted(by_currency)]
