"""Reconciliation: approve due conversions in set-based chunks, act on refunds, close monthly tiers.

What beat runs hourly (`tasks.reconcile_all_networks`) and `manage.py reconcile [--now]` runs by hand.

One chunk is one database transaction:

1. claim up to `chunk_size` due rows (pending, `lock_until` ≤ now, attributed) with
   `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers take disjoint chunks; SQLite
   has one writer at a time and no row locks, so there the conditional UPDATE below is the guard;
2. one conditional `UPDATE … SET status='approved' … WHERE status='pending' RETURNING id` (only the
   rows this statement really moved are posted);
3. bulk inserts: one ledger transaction per moved row (key `conversion:<id>:approved`, balanced:
   merchant +(commission + fee), affiliate payable −commission, revenue −fee), its entries, and one
   ConversionEvent per row.

A killed worker rolls its chunk back; a retry finds the rows still pending and does the same work.
`payouts.ledger.post` posts one transaction at a time (one INSERT per transaction), so the bulk
posting lives here; it keeps the ledger's invariants: the same balanced lines as
`fees.approval_lines`, the same digest, the unique (network, idempotency key), and PostgreSQL's
deferred triggers check every transaction at COMMIT anyway.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from network import money
from network.models import Network
from payouts import fees, ledger
from payouts.ledger import AccountKind, Line
from payouts.models import LedgerAccount, LedgerEntry, LedgerTransaction
from tracking import lifecycle
from tracking.models import Conversion, ConversionEvent

Status = Conversion.Status
DEFAULT_CHUNK_SIZE = 2000
TIER_LOOKBACK_MONTHS = 3
AUTO_REASON = "lock period over: approved automatically"


@dataclass
class ReconcileSummary:
    """What one reconciliation run did."""

    networks: int = 0
    approved: int = 0
    transactions: int = 0
    chunks: int = 0
    reversal_requests: int = 0
    tier_uplifts: int = 0
    now: datetime | None = None
    by_network: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """The one-line summary `manage.py reconcile` prints."""
        return (f"reconciled {self.networks} network(s) at {self.now.isoformat() if self.now else '-'}: "
                f"{self.approved} approved in {self.chunks} chunk(s), {self.transactions} ledger transaction(s), "
                f"{self.reversal_requests} reversal request(s), {self.tier_uplifts} tier uplift(s)")


class _Accounts:
    """Ledger accounts of one chunk, fetched in three queries and created on first use."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.found: dict[tuple[str, int | None, str], LedgerAccount] = {}

    def load(self, *, merchant_ids: set[int], affiliate_ids: set[int], currencies: set[str]) -> None:
        base = LedgerAccount.objects.for_network(self.network).filter(currency__in=currencies)
        for account in base.filter(kind=AccountKind.MERCHANT_BALANCE, merchant_id__in=merchant_ids):
            self.found[(account.kind, account.merchant_id, account.currency)] = account
        for account in base.filter(kind=AccountKind.AFFILIATE_PAYABLE, affiliate_id__in=affiliate_ids):
            self.found[(account.kind, account.affiliate_id, account.currency)] = account
        for account in base.filter(kind=AccountKind.NETWORK_REVENUE):
            self.found[(account.kind, None, account.currency)] = account

    def get(self, kind: str, owner_id: int | None, currency: str) -> LedgerAccount:
        key = (kind, owner_id, currency)
        account = self.found.get(key)
        if account is None:
            owner: dict[str, Any] = {}
            if kind == AccountKind.MERCHANT_BALANCE:
                owner["merchant"] = owner_id
            elif kind == AccountKind.AFFILIATE_PAYABLE:
                owner["affiliate"] = owner_id
            account = self.found[key] = ledger.get_account(network=self.network, kind=kind, currency=currency,
                                                           **owner)
        return account


def _claim(network: Network, now: datetime, chunk_size: int) -> list[tuple[Any, ...]]:
    due = (Conversion.objects.for_network(network)
           .filter(status=Status.PENDING, lock_until__lte=now, affiliate__isnull=False).order_by("pk"))
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    return list(due.values_list("pk", "merchant_id", "affiliate_id", "program_id", "commission_minor",
                                "amount_minor", "currency", "order_id")[:chunk_size])


def _mark_approved(rows: list[tuple[int, int]], now: datetime) -> set[int]:
    """One conditional UPDATE … RETURNING for the chunk; the ids it really moved."""
    table = Conversion._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS c SET status = %s, fee_minor = v.fee, approved_at = %s, updated_at = %s, "  # noqa: S608
                f"status_reason = %s, reason_code = '' "
                f"FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, fee) "
                f"WHERE c.id = v.id AND c.status = %s RETURNING c.id",
                [Status.APPROVED, now, now, AUTO_REASON, [pk for pk, _ in rows], [fee for _, fee in rows],
                 Status.PENDING])
        else:
            values = ", ".join(["(%s, %s)"] * len(rows))
            cursor.execute(
                f"WITH v(id, fee) AS (VALUES {values}) "  # noqa: S608 (placeholders only; the table is ours)
                f"UPDATE {table} SET status = %s, fee_minor = (SELECT fee FROM v WHERE v.id = {table}.id), "
                f"approved_at = %s, updated_at = %s, status_reason = %s, reason_code = '' "
                f"WHERE id IN (SELECT id FROM v) AND status = %s RETURNING id",
                [value for row in rows for value in row] + [Status.APPROVED, now, now, AUTO_REASON, Status.PENDING])
        return {row[0] for row in cursor.fetchall()}


def _hold(network: Network, reasons: dict[int, str], now: datetime) -> None:
    for pk, reason in reasons.items():
        if Conversion.objects.filter(pk=pk, status=Status.PENDING).update(status=Status.HOLD, status_reason=reason,
                                                                          updated_at=now):
            ConversionEvent.objects.create(network_id=network.pk, conversion_id=pk,
                                           kind=ConversionEvent.Kind.TRANSITION, from_status=Status.PENDING,
                                           to_status=Status.HOLD, reason=reason, created_at=now)


def _has_subscribers(network: Network) -> bool:
    from webhooks.models import AffiliatePostback, WebhookEndpoint

    return (WebhookEndpoint.objects.for_network(network).exists()
            or AffiliatePostback.objects.for_network(network).exists())


def approve_due_chunk(*, network: Network, now: datetime, chunk_size: int = DEFAULT_CHUNK_SIZE,
                      notify: bool | None = None) -> tuple[int, int, int]:
    """Approve one chunk of due conversions and post their ledger transactions; (claimed, approved, transactions)."""
    from merchants.models import Merchant

    with transaction.atomic():
        claimed = _claim(network, now, chunk_size)
        if not claimed:
            return 0, 0, 0
        merchants = {m.pk: m for m in Merchant.objects.filter(pk__in={row[1] for row in claimed})}
        fee_by_id: dict[int, int] = {}
        unpriceable: dict[int, str] = {}
        for pk, merchant_id, _, _, commission, amount, currency, _ in claimed:
            try:
                fee_by_id[pk] = fees.network_fee(network=network, merchant=merchants[merchant_id],
                                                 commission_minor=commission, sale_amount_minor=amount,
                                                 currency=currency)
            except ValidationError as error:
                # e.g. a flat fee in another currency: hold it for staff instead of blocking every run.
                unpriceable[pk] = ("held: the network fee cannot be computed: " + " ".join(error.messages))[:255]
        if unpriceable:
            _hold(network, unpriceable, now)
        moved = _mark_approved([(pk, fee_by_id[pk]) for pk, *_ in claimed if pk in fee_by_id], now) \
            if fee_by_id else set()
        rows = [row for row in claimed if row[0] in moved]
        accounts = _Accounts(network)
        accounts.load(merchant_ids={row[1] for row in rows}, affiliate_ids={row[2] for row in rows},
                      currencies={row[6] for row in rows})
        postings: list[tuple[LedgerTransaction, list[Line]]] = []
        for pk, merchant_id, affiliate_id, program_id, commission, _, currency, order_id in rows:
            fee = fee_by_id[pk]
            if commission + fee == 0:
                continue  # nothing owed: approve without a transaction, as approval_lines says
            lines = [Line.debit(accounts.get(AccountKind.MERCHANT_BALANCE, merchant_id, currency), commission + fee)]
            if commission:
                lines.append(Line.credit(accounts.get(AccountKind.AFFILIATE_PAYABLE, affiliate_id, currency),
                                         commission))
            if fee:
                lines.append(Line.credit(accounts.get(AccountKind.NETWORK_REVENUE, None, currency), fee))
            key = lifecycle.approval_key(pk)
            postings.append((LedgerTransaction(
                network_id=network.pk, idempotency_key=key, source=key, kind=LedgerTransaction.Kind.APPROVAL,
                program_id=program_id, description=f"Conversion {order_id} approved"[:255],
                lines_digest=ledger.lines_digest(lines), occurred_at=now, created_at=now), lines))
        created = LedgerTransaction.objects.bulk_create([txn for txn, _ in postings], batch_size=1000)
        LedgerEntry.objects.bulk_create([
            LedgerEntry(network_id=network.pk, transaction_id=txn.pk, account_id=line.account.pk,
                        amount_minor=line.amount_minor, currency=line.currency)
            for txn, (_, lines) in zip(created, postings, strict=True) for line in lines], batch_size=2000)
        ConversionEvent.objects.bulk_create([
            ConversionEvent(network_id=network.pk, conversion_id=row[0], kind=ConversionEvent.Kind.TRANSITION,
                            from_status=Status.PENDING, to_status=Status.APPROVED, reason=AUTO_REASON,
                            created_at=now) for row in rows], batch_size=2000)
        if notify if notify is not None else _has_subscribers(network):
            for conversion in Conversion.objects.filter(pk__in=[row[0] for row in rows]).select_related("click"):
                lifecycle.emit_conversion_event(network=network, conversion=conversion,
                                                event_type="conversion.approved",
                                                key=lifecycle.approval_key(conversion.pk))
    return len(claimed), len(rows), len(created)


def _month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _previous_month(start: datetime) -> datetime:
    return _month_start(start - timedelta(days=1))


def _tier_commission(rule: Any, tier: dict[str, Any], amount_minor: int) -> int | None:
    from decimal import Decimal

    from merchants.models import CommissionRule

    if rule.type == CommissionRule.Type.PERCENT and "rate" in tier:
        return money.apply_rate(amount_minor, Decimal(str(tier["rate"])))
    if rule.type == CommissionRule.Type.FLAT and "amount_minor" in tier:
        return int(tier["amount_minor"])
    return None


def close_monthly_tiers(*, network: Network, now: datetime) -> int:
    """At month close, pay each affiliate who reached a performance tier the difference as a separate
    balanced "tier uplift" (bonus) transaction; returns how many were posted.

    A month of a program closes once it is over and none of its conversions is pending or held. The
    affiliate's approved (or paid) conversions of the rule's action in that month are counted; the
    highest tier reached applies to all of them (conversions priced by a private rate are left out).
    Key `tier:<rule>:<affiliate>:<YYYY-MM>`: a rerun posts nothing twice.
    """
    from merchants.models import CommissionRule

    rules = [rule for rule in CommissionRule.objects.for_network(network).select_related("program") if rule.tiers]
    if not rules:
        return 0
    posted = 0
    end = _month_start(now)
    for _ in range(TIER_LOOKBACK_MONTHS):
        start = _previous_month(end)
        for rule in rules:
            posted += _close_rule_month(network=network, rule=rule, start=start, end=end, now=now)
        end = start
    return posted


def _close_rule_month(*, network: Network, rule: Any, start: datetime, end: datetime, now: datetime) -> int:
    from merchants import commissions

    month = f"{start:%Y-%m}"
    in_month = Conversion.objects.for_network(network).filter(program_id=rule.program_id, action=rule.action,
                                                                occurred_at__gte=start, occurred_at__lt=end)
    if in_month.filter(status__in=[Status.PENDING, Status.HOLD]).exists():
        return 0  # not closed yet: some conversions of the month are still undecided
    counted = in_month.filter(status__in=[Status.APPROVED, Status.PAID], affiliate__isnull=False)
    counts = dict(counted.values_list("affiliate_id").annotate(n=Count("pk")).values_list("affiliate_id", "n"))
    posted = 0
    for affiliate_id, count in sorted(counts.items()):
        tier = commissions._reached_tier(rule, count)
        if tier is None:
            continue
        key = f"tier:{rule.pk}:{affiliate_id}:{month}"
        if LedgerTransaction.objects.for_network(network).filter(idempotency_key=key).exists():
            continue
        uplift = 0
        for amount, commission, explanation in counted.filter(affiliate_id=affiliate_id).values_list(
                "amount_minor", "commission_minor", "explanation"):
            if (explanation or {}).get("source") not in ("program_rule", "tier"):
                continue
            better = _tier_commission(rule, tier, amount)
            if better is not None and better > commission:
                uplift += better - commission
        if uplift <= 0:
            continue
        terms = fees.fee_terms(network=network, merchant=rule.program.merchant)
        # The uplift is commission but no new conversion: only a percent-of-commission fee applies to it.
        fee = money.apply_rate(uplift, terms.rate) if terms.fee_type == Network.FeeType.PERCENT_OF_COMMISSION else 0
        lines = fees.approval_lines(network=network, merchant=rule.program.merchant_id, affiliate=affiliate_id,
                                    commission_minor=uplift, fee_minor=fee, currency=rule.program.currency)
        ledger.post(network=network, idempotency_key=key, lines=lines, kind=ledger.Kind.BONUS, source=key,
                    program=rule.program, occurred_at=now,
                    description=f"Tier uplift {month}: {count} approved {rule.action}s reached "
                                f"{tier.get('min_approved')}")
        posted += 1
    return posted


def reconcile(*, now: datetime | None = None, network: Network | None = None,
              chunk_size: int = DEFAULT_CHUNK_SIZE) -> ReconcileSummary:
    """Approve every due conversion (chunk by chunk), process open refunds, close finished tier months."""
    now = now or timezone.now()
    summary = ReconcileSummary(now=now)
    networks = [network] if network is not None else list(Network.objects.order_by("pk"))
    for each in networks:
        summary.networks += 1
        summary.reversal_requests += lifecycle.process_open_reversal_requests(network=each, now=now)
        notify = _has_subscribers(each)
        approved_here = 0
        while True:
            claimed, approved, transactions = approve_due_chunk(network=each, now=now, chunk_size=chunk_size,
                                                                notify=notify)
            if claimed == 0:
                break
            summary.chunks += 1
            approved_here += approved
            summary.transactions += transactions
        summary.approved += approved_here
        summary.by_network[each.slug] = approved_here
        summary.tier_uplifts += close_monthly_tiers(network=each, now=now)
    return summary


def due_counts(*, network: Network, now: datetime) -> dict[str, int]:
    """How many conversions per status are due (for the console and tests)."""
    rows = (Conversion.objects.for_network(network).filter(lock_until__lte=now)
            .values_list("status").annotate(n=Count("pk")))
    found: dict[str, int] = defaultdict(int)
    for status, count in rows:
        found[status] = count
    return dict(found)
