"""reports.demo_data: a month of traffic once, rollups refreshed; a second run creates nothing."""

from django.db.models import Sum

from reports import demo_data
from reports.models import DailyRollup
from tests.reports.factories import link_for
from tracking.models import Click, Conversion


def test_demo_traffic_is_seeded_once_and_rolled_up(tenant):
    link_for(tenant, label="Demo")
    demo_data.load({"network": tenant.network})
    clicks, conversions = Click.objects.count(), Conversion.objects.count()
    assert clicks > 0 and conversions > 0
    assert DailyRollup.objects.aggregate(total=Sum("clicks"))["total"] == clicks

    demo_data.load({"network": tenant.network})

    assert (Click.objects.count(), Conversion.objects.count()) == (clicks, conversions)
    assert DailyRollup.objects.aggregate(total=Sum("clicks"))["total"] == clicks
