"""Report queries over the rollups (network first): performance tables, series, KPIs, A/B tests, diversification.

Date ranges are days in the viewer's time zone (network.time_zone). Daily rollups are UTC days, so
they answer only for networks in UTC; any other zone reads the hourly rollups and groups them into
local days. Zones whose offset is not a whole number of hours (e.g. Asia/Kolkata, +05:30) are
approximated to the UTC hour that contains the local midnight (documented in docs/reports.md).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from affiliates.models import Affiliate, TrackingLink
from merchants.models import Merchant, Program
from network import money
from network.actors import Actor
from network.models import Network
from network.scoping import scope_for_actor
from reports.models import MEASURES, DailyRollup, HourlyRollup

GROUP_BYS = ("day", "program", "affiliate", "link", "sub1", "country", "device")
MAX_RANGE_DAYS = 400
DEFAULT_RANGE_DAYS = 30
# One program bringing more than this share of an affiliate's earnings is a concentration risk.
CONCENTRATION_WARNING_SHARE = Decimal("0.50")
# Two-sided significance level of the A/B test (95 % confidence).
SIGNIFICANCE_LEVEL = 0.05
UTC_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal"})

_DIMENSION_FIELDS = {"program": "program_id", "affiliate": "affiliate_id", "link": "link_id", "sub1": "sub1",
                     "country": "country", "device": "device"}


@dataclass(frozen=True)
class DateRange:
    """Inclusive local days [start, end] in a time zone."""

    start: date
    end: date
    zone: str

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range((self.end - self.start).days + 1)]

    @property
    def is_utc(self) -> bool:
        return self.zone in UTC_ZONES

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[first instant, first instant after) in UTC, floored to whole hours (the rollup grain)."""
        tz = ZoneInfo(self.zone)
        start = datetime.combine(self.start, time.min, tzinfo=tz).astimezone(UTC)
        end = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
        return start.replace(minute=0, second=0, microsecond=0), end.replace(minute=0, second=0, microsecond=0)


def local_today(network: Network, now: datetime | None = None) -> date:
    """Today in the network's time zone."""
    return (now or timezone.now()).astimezone(ZoneInfo(network.time_zone)).date()


def parse_range(*, network: Network, start: str | None, end: str | None, now: datetime | None = None) -> DateRange:
    """Validate ?from=&to= (YYYY-MM-DD, inclusive, local days); defaults to the last 30 days."""
    errors: dict[str, list[str]] = {}
    today = local_today(network, now)
    parsed: dict[str, date] = {}
    for name, value, default in (("from", start, today - timedelta(days=DEFAULT_RANGE_DAYS - 1)), ("to", end, today)):
        if value in (None, ""):
            parsed[name] = default
            continue
        try:
            parsed[name] = date.fromisoformat(str(value))
        except ValueError:
            errors[name] = [_("Enter a date as YYYY-MM-DD.")]
    if not errors:
        if parsed["from"] > parsed["to"]:
            errors["from"] = [_("The start date is after the end date.")]
        elif (parsed["to"] - parsed["from"]).days + 1 > MAX_RANGE_DAYS:
            errors["to"] = [_("A report covers at most %(days)s days.") % {"days": MAX_RANGE_DAYS}]
    if errors:
        raise ValidationError(errors)
    return DateRange(start=parsed["from"], end=parsed["to"], zone=network.time_zone)


def validate_group_by(value: str | None) -> str:
    """One of GROUP_BYS, else a ValidationError naming `group_by`."""
    value = value or "day"
    if value not in GROUP_BYS:
        raise ValidationError({"group_by": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(GROUP_BYS)}]})
    return value


@dataclass
class Rollups:
    """A scoped rollup queryset for a date range and the expression of its local day."""

    queryset: QuerySet
    day: Any
    range: DateRange


def rollups(*, actor: Actor, date_range: DateRange, program_id: int | None = None, affiliate_id: int | None = None,
            currency: str | None = None) -> Rollups:
    """The rollup rows the actor may see in the range (affiliate: own; merchant: own programs; staff: all)."""
    if date_range.is_utc:
        base = DailyRollup.objects.filter(day__gte=date_range.start, day__lte=date_range.end)
        day: Any = F("day")
    else:
        start, end = date_range.utc_bounds()
        base = HourlyRollup.objects.filter(bucket__gte=start, bucket__lt=end)
        day = TruncDate("bucket", tzinfo=ZoneInfo(date_range.zone))
    scoped = scope_for_actor(base, actor, merchant_field="merchant_id", affiliate_field="affiliate_id")
    if program_id is not None:
        scoped = scoped.filter(program_id=program_id)
    if affiliate_id is not None:
        scoped = scoped.filter(affiliate_id=affiliate_id)
    if currency:
        scoped = scoped.filter(currency=currency)
    return Rollups(queryset=scoped, day=day, range=date_range)


def _sums() -> dict[str, Sum]:
    return {name: Sum(name) for name in MEASURES}


@dataclass
class Figures:
    """Summed measures of one report row (or a total) in one currency, with the derived rates."""

    currency: str
    key: Any = None
    label: str = ""
    values: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, name: str) -> int:
        if name in MEASURES:
            return int(self.values.get(name) or 0)
        raise AttributeError(name)

    @property
    def conversion_rate(self) -> Decimal:
        """Conversions ÷ gross clicks, in percent with two decimals."""
        return percent(self.conversions, self.clicks)

    @property
    def epc_minor(self) -> int:
        """Earnings (commission that still counts) per 100 gross clicks, by the one rounding rule."""
        return money.round_minor(Decimal(self.commission_minor) * 100 / Decimal(self.clicks)) if self.clicks else 0

    @property
    def reversal_rate(self) -> Decimal:
        """Reversed ÷ (approved + reversed): the share of approved sales refunded or charged back."""
        return percent(self.reversed_conversions, self.approved_conversions + self.reversed_conversions)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "currency": self.currency,
                **{name: getattr(self, name) for name in MEASURES},
                "conversion_rate": self.conversion_rate, "epc_minor": self.epc_minor}


def percent(part: int, whole: int) -> Decimal:
    """part ÷ whole in percent, two decimals half-even; 0 when whole is 0."""
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def group_field(group_by: str, found: Rollups) -> Any:
    return found.day if group_by == "day" else F(_DIMENSION_FIELDS[group_by])


def grouped(found: Rollups, group_by: str) -> QuerySet:
    """values(key, currency) + sums: the set-based query behind every table and its CSV export."""
    return (found.queryset.order_by().values("currency", key=group_field(group_by, found))
            .annotate(**_sums()).order_by("key", "currency"))


def labels(network: Network, group_by: str, keys: Iterable[Any]) -> dict[Any, str]:
    """Display names of the keys (one query for programs, affiliates or links; none otherwise)."""
    ids = [key for key in keys if key]
    if group_by == "program":
        return dict(Program.objects.for_network(network).filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "affiliate":
        return dict(Affiliate.objects.for_network(network).filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "merchant":
        return dict(Merchant.objects.for_network(network).filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "link":
        found = {pk: label or code for pk, label, code in TrackingLink.objects.for_network(network)
                 .filter(pk__in=ids).values_list("pk", "label", "code")}
        return {0: _("(no link: coupon or returning customer)"), **found}
    if group_by == "device":
        from tracking.models import Click
        return {"": _("Unknown"), **{value: str(name) for value, name in Click.Device.choices}}
    if group_by in ("sub1", "country"):
        return {"": _("(none)")}
    return {}


def performance(found: Rollups, group_by: str, *, network: Network) -> list[Figures]:
    """Rows per (group key, currency), labelled; two queries at most."""
    rows = list(grouped(found, group_by))
    names = labels(network, group_by, {row["key"] for row in rows})
    return [Figures(currency=row["currency"], key=row["key"],
                    label=names.get(row["key"], str(row["key"]) if row["key"] is not None else ""),
                    values={name: row[name] for name in MEASURES}) for row in rows]


def iter_performance(found: Rollups, group_by: str, *, network: Network, chunk_size: int = 2000) -> Iterator[Figures]:
    """Like `performance`, streamed: rows read with iterator(chunk_size) and labelled chunk by chunk."""
    batch: list[dict[str, Any]] = []

    def flush() -> Iterator[Figures]:
        names = labels(network, group_by, {row["key"] for row in batch})
        for row in batch:
            yield Figures(currency=row["currency"], key=row["key"], label=names.get(row["key"], str(row["key"])),
                          values={name: row[name] for name in MEASURES})
        batch.clear()

    for row in grouped(found, group_by).iterator(chunk_size=chunk_size):
        batch.append(row)
        if len(batch) >= chunk_size:
            yield from flush()
    yield from flush()


def top(rows: list[Figures], *, by: str = "commission_minor", limit: int = 10) -> list[Figures]:
    """The best rows by a measure (then clicks), for 'top links' and the like."""
    return sorted(rows, key=lambda row: (-getattr(row, by), -row.clicks, str(row.label)))[:limit]


def totals(found: Rollups) -> list[Figures]:
    """Sums per currency over the range (one query)."""
    rows = found.queryset.order_by().values("currency").annotate(**_sums()).order_by("currency")
    return [Figures(currency=row["currency"], values={name: row[name] for name in MEASURES}) for row in rows]


def combined(rows: list[Figures]) -> Figures:
    """Counts summed across currencies (money measures are only meaningful per currency)."""
    values: dict[str, int] = defaultdict(int)
    for row in rows:
        for name in MEASURES:
            values[name] += getattr(row, name)
    return Figures(currency="", values=dict(values))


@dataclass
class Series:
    """A measure per local day over the range, days without rows as 0."""

    days: list[date]
    values: dict[str, list[int]]


def daily_series(found: Rollups, measures: Iterable[str], *, currency: str | None = None) -> Series:
    """One query: each measure per local day (money measures for one currency)."""
    measures = list(measures)
    queryset = found.queryset.order_by()
    if currency:
        queryset = queryset.filter(currency=currency)
    rows = queryset.values(key=found.day).annotate(**{name: Sum(name) for name in measures})
    by_day = {row["key"] if isinstance(row["key"], date) else date.fromisoformat(str(row["key"])): row
              for row in rows}
    days = found.range.days
    return Series(days=days, values={name: [int((by_day.get(day) or {}).get(name) or 0) for day in days]
                                     for name in measures})


# --- A/B comparison -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ABResult:
    """Two-proportion z-test of conversion rates B vs A."""

    clicks_a: int
    conversions_a: int
    clicks_b: int
    conversions_b: int
    rate_a: Decimal
    rate_b: Decimal
    difference: Decimal  # percentage points, B − A
    z: float | None
    p_value: float | None
    significant: bool
    verdict: str


def two_proportion_test(*, clicks_a: int, conversions_a: int, clicks_b: int, conversions_b: int) -> ABResult:
    """Pooled two-proportion z-test, two-sided: p = erfc(|z| / √2); exact, no approximation tables."""
    rate_a, rate_b = percent(conversions_a, clicks_a), percent(conversions_b, clicks_b)
    z = p_value = None
    if clicks_a and clicks_b:
        pooled = (conversions_a + conversions_b) / (clicks_a + clicks_b)
        variance = pooled * (1 - pooled) * (1 / clicks_a + 1 / clicks_b)
        if variance > 0:
            z = (conversions_b / clicks_b - conversions_a / clicks_a) / math.sqrt(variance)
            p_value = math.erfc(abs(z) / math.sqrt(2))
    significant = p_value is not None and p_value < SIGNIFICANCE_LEVEL
    if not significant:
        verdict = _("Not enough evidence yet: keep both running and check again with more clicks.")
    elif rate_b > rate_a:
        verdict = _("B converts better than A; the difference is statistically significant at 95 %.")
    else:
        verdict = _("A converts better than B; the difference is statistically significant at 95 %.")
    return ABResult(clicks_a=clicks_a, conversions_a=conversions_a, clicks_b=clicks_b, conversions_b=conversions_b,
                    rate_a=rate_a, rate_b=rate_b, difference=rate_b - rate_a, z=z, p_value=p_value,
                    significant=significant, verdict=verdict)


def compare_links(found: Rollups, *, link_a: int, link_b: int) -> ABResult:
    """A/B test of two links' conversion rates over the range (one query; links outside scope count 0)."""
    rows = {row["link_id"]: row for row in found.queryset.order_by().filter(link_id__in=[link_a, link_b])
            .values("link_id").annotate(clicks=Sum("clicks"), conversions=Sum("conversions"))}
    a, b = rows.get(link_a, {}), rows.get(link_b, {})
    return two_proportion_test(clicks_a=int(a.get("clicks") or 0), conversions_a=int(a.get("conversions") or 0),
                               clicks_b=int(b.get("clicks") or 0), conversions_b=int(b.get("conversions") or 0))


# --- income diversification -----------------------------------------------------------------------

@dataclass(frozen=True)
class Share:
    """One slice of earnings."""

    key: Any
    label: str
    amount_minor: int
    share: Decimal  # 0..1

    @property
    def percent(self) -> Decimal:
        return (self.share * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Diversification:
    """Shares of earnings in one currency by program, merchant and sub-ID; a warning on concentration."""

    currency: str
    total_minor: int
    by_program: list[Share]
    by_merchant: list[Share]
    by_sub1: list[Share]
    concentrated: Share | None  # the program above CONCENTRATION_WARNING_SHARE, if any


def _shares(amounts: dict[Any, int], names: dict[Any, str], total: int) -> list[Share]:
    return sorted((Share(key=key, label=names.get(key, str(key)), amount_minor=amount,
                         share=Decimal(amount) / Decimal(total) if total else Decimal(0))
                   for key, amount in amounts.items() if amount), key=lambda s: (-s.amount_minor, str(s.label)))


def diversification(found: Rollups, *, network: Network) -> list[Diversification]:
    """Per currency: where the earnings (commission that still counts) come from; three queries."""
    rows = list(found.queryset.order_by().values("currency", "program_id", "merchant_id", "sub1")
                .annotate(amount=Sum("commission_minor")))
    program_names = labels(network, "program", {row["program_id"] for row in rows})
    merchant_names = labels(network, "merchant", {row["merchant_id"] for row in rows})
    result = []
    for currency in sorted({row["currency"] for row in rows}):
        mine = [row for row in rows if row["currency"] == currency]
        total = sum(int(row["amount"] or 0) for row in mine)
        if total <= 0:
            continue
        per: dict[str, dict[Any, int]] = {"program_id": defaultdict(int), "merchant_id": defaultdict(int),
                                          "sub1": defaultdict(int)}
        for row in mine:
            for name, bucket in per.items():
                bucket[row[name]] += int(row["amount"] or 0)
        by_program = _shares(per["program_id"], program_names, total)
        top_program = by_program[0] if by_program else None
        result.append(Diversification(
            currency=currency, total_minor=total, by_program=by_program,
            by_merchant=_shares(per["merchant_id"], merchant_names, total),
            by_sub1=_shares(per["sub1"], {"": _("(none)")}, total),
            concentrated=top_program if top_program and top_program.share > CONCENTRATION_WARNING_SHARE else None))
    return result


# --- raw rows (exports) ---------------------------------------------------------------------------

def raw_clicks(*, actor: Actor, date_range: DateRange) -> QuerySet:
    """The actor's raw clicks in the range, oldest first (for CSV export; read with iterator())."""
    from tracking.models import Click

    start, end = date_range.utc_bounds()
    queryset = Click.objects.filter(created_at__gte=start, created_at__lt=end)
    return scope_for_actor(queryset, actor, merchant_field="program__merchant_id",
                           affiliate_field="affiliate_id").order_by("created_at", "pk")


def raw_conversions(*, actor: Actor, date_range: DateRange) -> QuerySet:
    """The actor's raw conversions in the range, oldest first (for CSV export)."""
    from tracking.models import Conversion

    start, end = date_range.utc_bounds()
    queryset = Conversion.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    return scope_for_actor(queryset, actor, merchant_field="merchant_id",
                           affiliate_field="affiliate_id").order_by("occurred_at", "pk")


# --- merchant and console figures from raw tables (small, indexed) --------------------------------

def review_queue(*, network: Network, merchant_id: int | None) -> dict[str, int]:
    """Conversions waiting for a decision (pending, hold), open reversal requests, and claims if that model exists."""
    from django.apps import apps

    from tracking.models import Conversion, ReversalRequest

    conversions = Conversion.objects.for_network(network).filter(
        status__in=[Conversion.Status.PENDING, Conversion.Status.HOLD])
    reversals = ReversalRequest.objects.for_network(network).filter(status=ReversalRequest.Status.OPEN)
    if merchant_id is not None:
        conversions = conversions.filter(merchant_id=merchant_id)
        reversals = reversals.filter(conversion__merchant_id=merchant_id)
    counts = dict(conversions.order_by().values_list("status").annotate(count=Count("pk")))
    result = {"pending": counts.get(Conversion.Status.PENDING, 0), "hold": counts.get(Conversion.Status.HOLD, 0),
              "reversal_requests": reversals.count()}
    claim = None
    for name in ("ConversionClaim", "Claim"):  # claims ("my sale was not tracked") belong to tracking
        try:
            claim = apps.get_model("tracking", name)
            break
        except LookupError:
            continue
    if claim is not None:
        claims = claim.objects.for_network(network)
        if merchant_id is not None and any(f.name == "merchant" for f in claim._meta.fields):
            claims = claims.filter(merchant_id=merchant_id)
        status_field = next((f for f in claim._meta.fields if f.name == "status"), None)
        if status_field is not None and status_field.choices:
            claims = claims.filter(status=status_field.choices[0][0])
        result["claims"] = claims.count()
    return result


def held_value(*, network: Network) -> list[dict[str, Any]]:
    """Conversions on hold (fraud review) per currency: count, sale amount and commission at stake."""
    from tracking.models import Conversion

    rows = (Conversion.objects.for_network(network).filter(status=Conversion.Status.HOLD).order_by()
            .values("currency").annotate(count=Count("pk"), amount_minor=Sum("amount_minor"),
                                         commission_minor=Sum("commission_minor")).order_by("currency"))
    return list(rows)


def flagged_conversions(*, network: Network, date_range: DateRange) -> int:
    """Conversions in the range that fraud screening flagged (any flag)."""
    from tracking.models import Conversion

    start, end = date_range.utc_bounds()
    return (Conversion.objects.for_network(network).filter(occurred_at__gte=start, occurred_at__lt=end)
            .exclude(flags=[]).count())


def network_counts(*, network: Network) -> dict[str, int]:
    """Active programs, merchants and affiliates (three small counts)."""
    return {
        "programs": Program.objects.for_network(network).filter(status=Program.Status.ACTIVE).count(),
        "merchants": Merchant.objects.for_network(network).filter(status=Merchant.Status.ACTIVE).count(),
        "affiliates": Affiliate.objects.for_network(network).filter(status=Affiliate.Status.ACTIVE).count(),
    }


def ledger_activity(*, network: Network, date_range: DateRange, merchant_id: int | None = None) -> dict[str, dict[str, int]]:
    """Per currency from the ledger in the range: billed cost (commission + fee) and the network fee, net of reversals."""
    try:
        from payouts import selectors as payouts_selectors
        activity = payouts_selectors.period_activity
    except (ImportError, AttributeError):
        return {}
    start, end = date_range.utc_bounds()
    result: dict[str, dict[str, int]] = {}
    for row in activity(network=network, start=start, end=end, merchant_id=merchant_id):
        found = result.setdefault(row["currency"], {"total_minor": 0, "fee_minor": 0, "commission_minor": 0})
        for name in found:
            found[name] += row[name]
    return result


def payout_liabilities(*, network: Network, affiliate_ids: list[int] | None = None) -> dict[str, dict[str, int]]:
    """Per currency from the ledger: approved-unpaid (owed to affiliates), in transit, and paid so far."""
    try:
        from payouts import selectors as payouts_selectors
        balances = payouts_selectors.affiliate_balances(network=network, affiliate_ids=affiliate_ids)
    except (ImportError, AttributeError):
        return {}
    result: dict[str, dict[str, int]] = {}
    for balance in balances:
        found = result.setdefault(balance.currency, {"approved_minor": 0, "reserved_minor": 0, "paid_minor": 0,
                                                     "pending_minor": 0})
        found["approved_minor"] += balance.approved_minor
        found["reserved_minor"] += balance.reserved_minor
        found["paid_minor"] += balance.paid_minor
        found["pending_minor"] += balance.pending_minor
    return result


def funding_overview(*, network: Network) -> list[dict[str, Any]]:
    """Per merchant: prepaid balance per currency and its programs' funding status (if payouts provides it)."""
    try:
        from payouts import selectors as payouts_selectors
    except ImportError:
        return []
    if not hasattr(payouts_selectors, "funding_status_for_programs"):
        return []
    programs = list(Program.objects.for_network(network).filter(status=Program.Status.ACTIVE)
                    .values_list("pk", "merchant_id", "currency"))
    statuses = payouts_selectors.funding_status_for_programs(network, [pk for pk, _, _ in programs])
    balances = payouts_selectors.merchant_balances(network=network)
    names = labels(network, "merchant", {merchant_id for _, merchant_id, _ in programs})
    per: dict[tuple[int, str], dict[str, Any]] = {}
    for pk, merchant_id, currency in programs:
        found = per.setdefault((merchant_id, currency), {
            "merchant": names.get(merchant_id, str(merchant_id)), "currency": currency,
            "balance_minor": balances.get((merchant_id, currency), 0), "statuses": defaultdict(int)})
        found["statuses"][statuses.get(pk, "unknown")] += 1
    rows = sorted(per.values(), key=lambda r: (str(r["merchant"]), r["currency"]))
    for row in rows:
        order = ("unfunded", "low", "funded")
        row["status"] = next((status for status in order if row["statuses"].get(status)), "unknown")
        row["statuses"] = dict(row["statuses"])
    return rows


