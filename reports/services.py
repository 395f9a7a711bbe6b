"""The rollup builder: recompute the hourly and daily buckets that new clicks and changed conversions touch.

Set-based and idempotent. Each run finds the (program, UTC hour) buckets touched since the cursors
(new click ids, conversions whose `updated_at` moved), deletes those buckets' rollup rows and
re-inserts them from the raw rows with one INSERT … SELECT … GROUP BY per chunk; the daily rollups of
the touched days are then re-summed from the hourly ones. Recomputing a bucket from raw rows gives
the same rows however often it runs, so a rerun (or two overlapping workers) changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, CharField, Count, F, Max, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Trunc, TruncDate
from django.utils import timezone

from reports.models import DIMENSIONS, MEASURES, DailyRollup, HourlyRollup, RollupCursor
from tracking.models import Click, Conversion

# A row committed late (a slow transaction) has an id above what an earlier run saw only if it was
# inserted after that run's snapshot; holding the click watermark back by this much re-reads the
# last minute's ids on the next run, and the conversion watermark overlaps by the same margin.
SETTLE = timedelta(seconds=60)
# Above this many (program, time range) pieces one statement recomputes whole hours for every program.
MAX_RANGES = 300
CHUNK_RANGES = 100
HOUR = timedelta(hours=1)

Status = Conversion.Status
COUNTING = (Status.PENDING, Status.HOLD, Status.APPROVED, Status.PAID)
PENDING = (Status.PENDING, Status.HOLD)
APPROVED = (Status.APPROVED, Status.PAID)


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh did: buckets recomputed and how far the cursors moved."""

    hours: int
    days: int
    clicks_last_id: int
    conversions_last_updated_at: datetime | None


# (network id, merchant id, program id): leads the indexes of clicks (network, program, created_at) and
# conversions (network, merchant, occurred_at), so each piece of a recompute is an index range scan.
Key = tuple[int, int, int]
Range = tuple[Key | None, datetime, datetime]  # (key or None for every program, start, end)


def _count_if(condition: Q) -> Sum:
    return Sum(Case(When(condition, then=Value(1)), default=Value(0)), output_field=BigIntegerField())


def _sum_if(condition: Q, field: str) -> Sum:
    return Sum(Case(When(condition, then=F(field)), default=Value(0)), output_field=BigIntegerField())


def _range_q(ranges: Iterable[Range], time_field: str, *, merchant: bool = False) -> Q:
    query = Q()
    for key, start, end in ranges:
        piece = Q(**{f"{time_field}__gte": start, f"{time_field}__lt": end})
        if key is not None:
            network_id, merchant_id, program_id = key
            piece &= Q(network_id=network_id, program_id=program_id)
            if merchant:
                piece &= Q(merchant_id=merchant_id)
        query |= piece
    return query


def _contiguous(hours: list[datetime], step: timedelta) -> list[tuple[datetime, datetime]]:
    ranges: list[tuple[datetime, datetime]] = []
    for hour in sorted(set(hours)):
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + step)
        else:
            ranges.append((hour, hour + step))
    return ranges


def _plan(pairs: set[tuple[Key, datetime]], step: timedelta) -> list[Range]:
    """Turn touched (program key, bucket start) pairs into few ranges; any superset is still correct."""
    by_program: dict[Key, list[datetime]] = defaultdict(list)
    for key, start in pairs:
        by_program[key].append(start)
    ranges: list[Range] = [(key, start, end) for key, starts in sorted(by_program.items())
                           for start, end in _contiguous(starts, step)]
    if len(ranges) <= MAX_RANGES:
        return ranges
    # Many programs touched (a first run, a backfill): recompute whole buckets for all programs.
    spans = _contiguous([start for _, start in pairs], step)
    if len(spans) > MAX_RANGES:
        spans = [(spans[0][0], spans[-1][1])]
    return [(None, start, end) for start, end in spans]


def _click_rows(query: Q) -> QuerySet:
    return (Click.objects.filter(query).order_by()
            .values(r_network=F("network_id"), r_bucket=Trunc("created_at", "hour", tzinfo=UTC),
                    r_program=F("program_id"), r_merchant=F("program__merchant_id"),
                    r_affiliate=F("affiliate_id"), r_link=F("link_id"), r_sub1=F("sub1"),
                    r_country=F("country"), r_device=F("device"), r_currency=F("program__currency"))
            .annotate(m_clicks=Count("id"), m_unique_clicks=_count_if(Q(is_unique=True))))


def _conversion_rows(query: Q) -> QuerySet:
    # Unattributed conversions belong to no affiliate and earn no commission: no report row.
    return (Conversion.objects.filter(query, affiliate__isnull=False).order_by()
            .values(r_network=F("network_id"), r_bucket=Trunc("occurred_at", "hour", tzinfo=UTC),
                    r_program=F("program_id"), r_merchant=F("merchant_id"), r_affiliate=F("affiliate_id"),
                    r_link=Coalesce("link_id", "click__link_id", Value(0), output_field=BigIntegerField()),
                    r_sub1=F("sub1"),
                    r_country=Coalesce("click__country", Value(""), output_field=CharField()),
                    r_device=Coalesce("click__device", Value(""), output_field=CharField()),
                    r_currency=F("currency"))
            .annotate(
                m_conversions=_count_if(Q(status__in=COUNTING)),
                m_pending_conversions=_count_if(Q(status__in=PENDING)),
                m_approved_conversions=_count_if(Q(status__in=APPROVED)),
                m_reversed_conversions=_count_if(Q(status=Status.REVERSED)),
                m_rejected_conversions=_count_if(Q(status=Status.REJECTED)),
                m_sale_amount_minor=_sum_if(Q(status__in=COUNTING), "amount_minor"),
                m_commission_minor=_sum_if(Q(status__in=COUNTING), "commission_minor"),
                m_pending_commission_minor=_sum_if(Q(status__in=PENDING), "commission_minor"),
                m_approved_commission_minor=_sum_if(Q(status__in=APPROVED), "commission_minor"),
                m_paid_commission_minor=_sum_if(Q(status=Status.PAID), "commission_minor"),
            ))


def _select_list(available: set[str]) -> str:
    """The inner SELECT list of one UNION part: its measures, zeros for the other part's."""
    dims = ", ".join(f"r_{name.removesuffix('_id')}" for name in ("network_id", "bucket", *DIMENSIONS))
    measures = ", ".join(f"m_{name}" if name in available else f"0 AS m_{name}" for name in MEASURES)
    return f"{dims}, {measures}"


def _insert_hours(ranges: list[Range]) -> None:
    clicks_sql, clicks_params = _click_rows(_range_q(ranges, "created_at")).query.sql_with_params()
    conversions_sql, conversions_params = _conversion_rows(_range_q(ranges, "occurred_at", merchant=True)).query.sql_with_params()
    click_measures = {"clicks", "unique_clicks"}
    dims = ", ".join(f"r_{name.removesuffix('_id')}" for name in ("network_id", "bucket", *DIMENSIONS))
    columns = ", ".join(("network_id", "bucket", *DIMENSIONS, *MEASURES))
    sums = ", ".join(f"SUM(m_{name})" for name in MEASURES)
    # Identifiers are constants of this module; values travel as bound parameters.
    sql = (f"INSERT INTO {HourlyRollup._meta.db_table} ({columns}) SELECT {dims}, {sums} FROM ("  # noqa: S608
           f"SELECT {_select_list(click_measures)} FROM ({clicks_sql}) AS c UNION ALL "
           f"SELECT {_select_list(set(MEASURES) - click_measures)} FROM ({conversions_sql}) AS v"
           f") AS u GROUP BY {dims}")
    with connection.cursor() as cursor:
        cursor.execute(sql, (*clicks_params, *conversions_params))


def _insert_days(ranges: list[Range]) -> None:
    rows = (HourlyRollup.objects.filter(_range_q(ranges, "bucket")).order_by()
            .values(r_network=F("network_id"), r_day=TruncDate("bucket", tzinfo=UTC),
                    **{f"r_{name.removesuffix('_id')}": F(name) for name in DIMENSIONS})
            .annotate(**{f"m_{name}": Sum(name) for name in MEASURES}))
    rows_sql, params = rows.query.sql_with_params()
    dims = ", ".join(f"r_{name.removesuffix('_id')}" for name in ("network_id", "day", *DIMENSIONS))
    columns = ", ".join(("network_id", "day", *DIMENSIONS, *MEASURES))
    measures = ", ".join(f"m_{name}" for name in MEASURES)
    sql = f"INSERT INTO {DailyRollup._meta.db_table} ({columns}) SELECT {dims}, {measures} FROM ({rows_sql}) AS h"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def recompute_hours(*, pairs: set[tuple[Key, datetime]]) -> int:
    """Rebuild the hourly rollups of the given ((network, merchant, program), UTC hour start) buckets."""
    ranges = _plan(pairs, HOUR)
    for index in range(0, len(ranges), CHUNK_RANGES):
        chunk = ranges[index:index + CHUNK_RANGES]
        HourlyRollup.objects.filter(_range_q(chunk, "bucket")).delete()
        _insert_hours(chunk)
    return len(pairs)


def recompute_days(*, pairs: set[tuple[Key, date]]) -> int:
    """Rebuild the daily rollups of the given ((network, merchant, program), UTC day) buckets from the hourly ones."""
    starts = {(key, datetime(day.year, day.month, day.day, tzinfo=UTC)) for key, day in pairs}
    ranges = _plan(starts, timedelta(days=1))
    for index in range(0, len(ranges), CHUNK_RANGES):
        chunk = ranges[index:index + CHUNK_RANGES]
        DailyRollup.objects.filter(_range_q([(p, s.date(), e.date()) for p, s, e in chunk], "day")).delete()  # type: ignore[misc]
        _insert_days(chunk)
    return len(pairs)


def _cursor(source: str, now: datetime) -> RollupCursor:
    RollupCursor.objects.get_or_create(source=source, defaults={"last_run_at": now})
    # Locked for the run: a second worker waits here and then finds nothing new.
    return RollupCursor.objects.select_for_update().get(source=source)


@transaction.atomic
def refresh_rollups(*, now: datetime | None = None) -> RefreshResult:
    """Bring the hourly and daily rollups up to date with new clicks and changed conversions; safe to rerun."""
    now = now or timezone.now()
    clicks_cursor = _cursor(RollupCursor.Source.CLICKS, now)
    conversions_cursor = _cursor(RollupCursor.Source.CONVERSIONS, now)

    new_clicks = Click.objects.filter(pk__gt=clicks_cursor.last_id).order_by()
    pairs: set[tuple[Key, datetime]] = {
        ((network_id, merchant_id, program_id), hour) for network_id, merchant_id, program_id, hour in
        new_clicks.annotate(hour=Trunc("created_at", "hour", tzinfo=UTC))
        .values_list("network_id", "program__merchant_id", "program_id", "hour").distinct()}
    settled_click = new_clicks.filter(created_at__lte=now - SETTLE).aggregate(last=Max("pk"))["last"]

    changed = Conversion.objects.filter(affiliate__isnull=False).order_by()
    if conversions_cursor.last_updated_at is not None:
        changed = changed.filter(updated_at__gt=conversions_cursor.last_updated_at - SETTLE)
    pairs |= {((network_id, merchant_id, program_id), hour) for network_id, merchant_id, program_id, hour in
              changed.annotate(hour=Trunc("occurred_at", "hour", tzinfo=UTC))
              .values_list("network_id", "merchant_id", "program_id", "hour").distinct()}
    last_change = changed.filter(updated_at__lte=now).aggregate(last=Max("updated_at"))["last"]

    hours = recompute_hours(pairs=pairs) if pairs else 0
    day_pairs = {(key, hour.astimezone(UTC).date()) for key, hour in pairs}
    days = recompute_days(pairs=day_pairs) if day_pairs else 0

    if settled_click is not None:
        clicks_cursor.last_id = max(clicks_cursor.last_id, settled_click)
    if last_change is not None and (conversions_cursor.last_updated_at is None
                                    or last_change > conversions_cursor.last_updated_at):
        conversions_cursor.last_updated_at = last_change
    for cursor, seen in ((clicks_cursor, hours), (conversions_cursor, hours)):
        cursor.last_run_at = now
        cursor.rows_seen = seen
        cursor.save()
    return RefreshResult(hours=hours, days=days, clicks_last_id=clicks_cursor.last_id,
                         conversions_last_updated_at=conversions_cursor.last_updated_at)


@transaction.atomic
def rebuild_rollups(*, now: datetime | None = None) -> RefreshResult:
    """Forget the cursors and rebuild every rollup from the raw rows (after a backfill or a bug fix)."""
    HourlyRollup.objects.all().delete()
    DailyRollup.objects.all().delete()
    RollupCursor.objects.all().delete()
    return refresh_rollups(now=now)
