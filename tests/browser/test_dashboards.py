"""The three report dashboards open as their role with seeded data; the numbers match the database."""

from datetime import UTC, timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from reports import services
from reports.models import DailyRollup
from tests.browser.conftest import log_in, screenshot
from tests.reports.factories import clicks, conversion, link_for
from tracking.models import Click, Conversion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed(tenant) -> None:
    yesterday = timezone.now().astimezone(UTC).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    link_a = link_for(tenant, label="Homepage banner")
    link_b = link_for(tenant, label="Newsletter")
    for days_ago in range(7):
        at = yesterday - timedelta(days=days_ago)
        first = clicks(link_a, at=at, count=40 + days_ago * 3, unique=30, sub1="homepage", country="VN",
                       device="mobile")
        clicks(link_b, at=at, count=25, sub1="newsletter", country="DE", device="desktop")
        conversion(link_a, at=at, click=first[0], sub1="homepage", amount_minor=15000, commission_minor=1500,
                   status=Conversion.Status.APPROVED if days_ago > 2 else Conversion.Status.PENDING)
    services.refresh_rollups(now=timezone.now() + timedelta(minutes=5))


def kpi(page, name: str) -> str:
    return page.locator(f"[data-kpi='{name}']").first.inner_text().strip()


def test_affiliate_dashboard(page, tenant):
    seed(tenant)
    log_in(page, tenant.affiliate_user.email)
    page.goto("/portal/reports/")
    expected = Click.objects.filter(affiliate=tenant.affiliate).count()
    assert kpi(page, "clicks") == f"{expected:,}"
    assert kpi(page, "conversions") == str(Conversion.objects.filter(affiliate=tenant.affiliate).count())
    assert page.locator("svg.chart").count() == 3
    assert page.locator("#ab-verdict").is_visible()
    assert page.locator("#concentration-warning").is_visible()
    # Sorting the links table by clicks (ascending) puts the newsletter link first.
    table = page.locator("table[data-table='link']")
    table.locator("th", has_text="Clicks").click()
    assert table.locator("tbody tr").first.locator("td").first.inner_text() == "Newsletter"
    screenshot(page, "dashboard-affiliate")


def test_merchant_dashboard(page, tenant):
    seed(tenant)
    log_in(page, tenant.merchant_user.email)
    page.goto("/merchant/reports/")
    totals = DailyRollup.objects.for_network(tenant.network).aggregate(clicks=Sum("clicks"),
                                                                      approved=Sum("approved_conversions"))
    assert kpi(page, "clicks") == f"{totals['clicks']:,}"
    assert kpi(page, "approved") == str(totals["approved"])
    assert kpi(page, "pending") == str(Conversion.objects.filter(status="pending").count())
    assert page.locator("svg.chart title", has_text="Conversion funnel").count() == 1
    assert page.locator("svg.chart").count() == 3
    screenshot(page, "dashboard-merchant")


def test_console_dashboard(page, tenant):
    seed(tenant)
    log_in(page, tenant.owner.email)
    page.goto("/console/reports/")
    gmv = Conversion.objects.filter(status__in=["pending", "approved"]).aggregate(total=Sum("amount_minor"))["total"]
    assert kpi(page, "gmv-USD") == f"${gmv / 100:,.2f}"
    assert kpi(page, "clicks") == f"{Click.objects.count():,}"
    screenshot(page, "dashboard-console")
