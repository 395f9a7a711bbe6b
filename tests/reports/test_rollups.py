"""Rollups: exact numbers from known clicks and conversions; reruns and incremental runs."""

from datetime import UTC, date, datetime, timedelta

from django.core.management import call_command
from django.db.models import Sum

from reports import services
from reports.models import DailyRollup, HourlyRollup, RollupCursor
from tests.reports.factories import clicks, conversion, link_for
from tracking.models import Conversion

T0 = datetime(2026, 3, 10, 9, 15, tzinfo=UTC)
NOW = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)


def snapshot(model):
    fields = [f.name for f in model._meta.concrete_fields if f.name != "id"]
    return sorted(tuple(row[f] for f in fields) for row in model.objects.values(*fields))


def test_rollups_count_clicks_and_conversions_exactly(tenant):
    link = link_for(tenant)
    first = clicks(link, at=T0, count=5, unique=3, sub1="blog", country="DE", device="mobile")
    clicks(link, at=T0 + timedelta(minutes=30), count=2, sub1="blog", country="DE", device="mobile")
    clicks(link, at=T0 + timedelta(hours=1), count=4, sub1="news", country="FR", device="desktop")
    conversion(link, at=T0 + timedelta(minutes=5), click=first[0], sub1="blog", amount_minor=5000,
               commission_minor=500, status=Conversion.Status.APPROVED)
    conversion(link, at=T0 + timedelta(minutes=6), click=first[1], sub1="blog", amount_minor=3000,
               commission_minor=300, status=Conversion.Status.PENDING)
    conversion(link, at=T0 + timedelta(minutes=7), click=first[2], sub1="blog", amount_minor=2000,
               commission_minor=200, status=Conversion.Status.REVERSED)

    services.refresh_rollups(now=NOW)

    hour = HourlyRollup.objects.get(bucket=datetime(2026, 3, 10, 9, tzinfo=UTC))
    assert (hour.program_id, hour.merchant_id, hour.affiliate_id, hour.link_id) == (
        tenant.program.pk, tenant.merchant.pk, tenant.affiliate.pk, link.pk)
    assert (hour.sub1, hour.country, hour.device, hour.currency) == ("blog", "DE", "mobile", "USD")
    assert (hour.clicks, hour.unique_clicks) == (7, 5)
    assert (hour.conversions, hour.pending_conversions, hour.approved_conversions, hour.reversed_conversions) == (
        2, 1, 1, 1)
    assert (hour.sale_amount_minor, hour.commission_minor) == (8000, 800)
    assert (hour.pending_commission_minor, hour.approved_commission_minor) == (300, 500)
    other = HourlyRollup.objects.get(bucket=datetime(2026, 3, 10, 10, tzinfo=UTC))
    assert (other.sub1, other.country, other.clicks, other.conversions) == ("news", "FR", 4, 0)
    days = list(DailyRollup.objects.order_by("sub1").values_list("day", "sub1", "clicks", "unique_clicks",
                                                                  "conversions", "commission_minor"))
    assert days == [(date(2026, 3, 10), "blog", 7, 5, 2, 800), (date(2026, 3, 10), "news", 4, 4, 0, 0)]


def test_a_rerun_changes_nothing(tenant):
    link = link_for(tenant)
    clicks(link, at=T0, count=3)
    conversion(link, at=T0, status=Conversion.Status.APPROVED)
    services.refresh_rollups(now=NOW)
    hourly, daily = snapshot(HourlyRollup), snapshot(DailyRollup)

    services.refresh_rollups(now=NOW)
    call_command("refresh_rollups", "--now", "2026-03-11T00:00:00Z")

    assert snapshot(HourlyRollup) == hourly
    assert snapshot(DailyRollup) == daily
    assert HourlyRollup.objects.count() == 2  # the conversion came without a click: its own country/device


def test_incremental_runs_add_new_clicks_and_follow_status_changes(tenant):
    link = link_for(tenant)
    clicks(link, at=T0, count=3)
    pending = conversion(link, at=T0, status=Conversion.Status.PENDING, commission_minor=700)
    services.refresh_rollups(now=NOW)
    cursor = RollupCursor.objects.get(source="clicks")
    assert cursor.last_id == max(link.clicks.values_list("pk", flat=True))

    clicks(link, at=T0 + timedelta(minutes=10), count=2)  # same bucket, later
    clicks(link, at=T0 + timedelta(days=1), count=1)  # a new day
    later = NOW + timedelta(hours=2)
    Conversion.objects.filter(pk=pending.pk).update(status=Conversion.Status.APPROVED, updated_at=later)
    services.refresh_rollups(now=later + timedelta(minutes=5))

    day1 = DailyRollup.objects.filter(day=date(2026, 3, 10)).aggregate(
        clicks=Sum("clicks"), conversions=Sum("conversions"), pending=Sum("pending_commission_minor"),
        approved=Sum("approved_commission_minor"))
    assert day1 == {"clicks": 5, "conversions": 1, "pending": 0, "approved": 700}
    assert DailyRollup.objects.get(day=date(2026, 3, 11)).clicks == 1
    assert sum(HourlyRollup.objects.values_list("clicks", flat=True)) == 6


def test_rejected_and_unattributed_conversions(tenant):
    link = link_for(tenant)
    conversion(link, at=T0, status=Conversion.Status.REJECTED, commission_minor=900)
    unattributed = conversion(link, at=T0, commission_minor=900)
    Conversion.objects.filter(pk=unattributed.pk).update(affiliate=None, link=None)
    services.refresh_rollups(now=NOW)
    row = HourlyRollup.objects.get()
    assert (row.conversions, row.rejected_conversions, row.commission_minor, row.clicks) == (0, 1, 0, 0)
    assert (row.country, row.device) == ("", "")


def test_rollups_keep_networks_apart(tenant, other_tenant):
    clicks(link_for(tenant), at=T0, count=2)
    clicks(link_for(other_tenant), at=T0, count=5)
    services.refresh_rollups(now=NOW)
    assert HourlyRollup.objects.for_network(tenant.network).get().clicks == 2
    assert HourlyRollup.objects.for_network(other_tenant.network).get().clicks == 5
