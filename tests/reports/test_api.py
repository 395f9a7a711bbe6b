"""GET /api/v1/reports/performance/: numbers, grouping, time zones, validation and scoping."""

from datetime import UTC, datetime, timedelta

import pytest

from network.models import Network
from reports import services
from reports.models import HourlyRollup
from tests import factories
from tests.reports.factories import clicks, conversion, link_for
from tracking.models import Conversion

URL = "/api/v1/reports/performance/"
T0 = datetime(2026, 3, 10, 9, 15, tzinfo=UTC)
RANGE = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def seeded(tenant):
    """Tenant's affiliate: 200 clicks, 4 conversions (1 reversed); a second affiliate and program of its own."""
    link = link_for(tenant, label="Spring review")
    first = clicks(link, at=T0, count=200, unique=150, sub1="blog", country="DE", device="mobile")
    for index, status in enumerate(["approved", "approved", "pending", "reversed", "pending"]):
        conversion(link, at=T0, click=first[index], sub1="blog", amount_minor=10000, commission_minor=1000,
                   status=status)
    neighbour = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    other_program = factories.ProgramFactory(merchant__network=tenant.network, currency="EUR")
    other_link = link_for(tenant, affiliate=neighbour.affiliate, program=other_program)
    clicks(other_link, at=T0, count=50, country="FR")
    conversion(other_link, at=T0, commission_minor=777, status="approved")
    services.refresh_rollups(now=T0 + timedelta(days=2))
    return {"link": link, "neighbour": neighbour, "other_program": other_program}


def test_affiliate_sees_own_figures_by_link(tenant, seeded, affiliate_api, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = affiliate_api.get(URL, {**RANGE, "group_by": "link"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["key"] == seeded["link"].pk
    assert row["label"] == "Spring review"
    assert (row["clicks"], row["unique_clicks"], row["conversions"], row["approved_conversions"],
            row["reversed_conversions"]) == (200, 150, 4, 2, 1)
    assert row["currency"] == "USD"
    assert row["conversion_rate"] == "2.00"  # 4 / 200
    assert row["commission"] == "40.00"
    assert row["epc"] == "20.00"  # 4000 minor / 200 clicks * 100
    assert row["sale_amount"] == "400.00"
    assert body["totals"][0]["clicks"] == 200


def test_group_by_day_and_country(tenant, seeded, staff_api):
    days = staff_api.get(URL, {**RANGE, "group_by": "day"}).json()
    assert [(r["key"], r["currency"], r["clicks"]) for r in days["results"]] == [
        ("2026-03-10", "EUR", 50), ("2026-03-10", "USD", 200)]
    countries = staff_api.get(URL, {**RANGE, "group_by": "country"}).json()
    assert {(r["key"], r["clicks"]) for r in countries["results"]} == {("DE", 200), ("FR", 50), ("", 0)}


def test_days_follow_the_network_time_zone(tenant, affiliate_api):
    Network.objects.filter(pk=tenant.network.pk).update(time_zone="America/New_York")
    link = link_for(tenant)
    clicks(link, at=datetime(2026, 3, 11, 3, 30, tzinfo=UTC), count=3)  # 23:30 on the 10th in New York
    clicks(link, at=datetime(2026, 3, 11, 5, 0, tzinfo=UTC), count=2)  # 01:00 on the 11th
    services.refresh_rollups(now=datetime(2026, 3, 12, tzinfo=UTC))
    body = affiliate_api.get(URL, {**RANGE, "group_by": "day"}).json()
    assert [(r["key"], r["clicks"]) for r in body["results"]] == [("2026-03-10", 3), ("2026-03-11", 2)]
    assert body["time_zone"] == "America/New_York"


def test_merchant_sees_own_programs_only(tenant, seeded, merchant_api):
    body = merchant_api.get(URL, {**RANGE, "group_by": "program"}).json()
    assert [(r["key"], r["clicks"]) for r in body["results"]] == [(tenant.program.pk, 200)]
    assert merchant_api.get(URL, {**RANGE, "program": seeded["other_program"].pk}).status_code == 404


def test_another_affiliate_sees_none_of_my_rows(tenant, seeded):
    client = factories_client(tenant, seeded["neighbour"])
    body = client.get(URL, {**RANGE, "group_by": "affiliate"}).json()
    assert [(r["key"], r["clicks"]) for r in body["results"]] == [(seeded["neighbour"].affiliate.pk, 50)]
    assert client.get(URL, {**RANGE, "affiliate": tenant.affiliate.pk}).status_code == 404


def test_other_network_sees_nothing(tenant, seeded, other_tenant):
    client = other_tenant.client_for("staff")
    body = client.get(URL, RANGE).json()
    assert body["count"] == 0 and body["totals"] == []
    assert client.get(URL, {**RANGE, "program": tenant.program.pk}).status_code == 404


@pytest.mark.parametrize(("params", "field"), [
    ({"group_by": "weekday"}, "group_by"),
    ({"from": "10/03/2026"}, "from"),
    ({"to": "2026-02-30"}, "to"),
    ({"from": "2026-03-10", "to": "2026-03-01"}, "from"),
    ({"from": "2025-01-01", "to": "2026-03-01"}, "to"),
    ({"program": "abc"}, "program"),
    ({"currency": "EURO"}, "currency"),
])
def test_validation_errors_name_the_field(tenant, seeded, staff_api, params, field):
    before = HourlyRollup.objects.count()
    response = staff_api.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert HourlyRollup.objects.count() == before


def test_filters_by_currency(tenant, seeded, staff_api):
    body = staff_api.get(URL, {**RANGE, "group_by": "program", "currency": "EUR"}).json()
    assert [(r["key"], r["commission"]) for r in body["results"]] == [(seeded["other_program"].pk, "7.77")]


def factories_client(tenant, membership):
    from rest_framework.test import APIClient

    from network.models import ApiKey

    key = factories.api_key_for(network=tenant.network, user=membership.user, kind=ApiKey.ActorKind.AFFILIATE,
                                actor_id=membership.affiliate.pk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_conversion_status_is_kept_exact(tenant, seeded, affiliate_api):
    Conversion.objects.filter(affiliate=tenant.affiliate, status="pending").update(
        status="rejected", updated_at=T0 + timedelta(days=3))
    services.refresh_rollups(now=T0 + timedelta(days=3, minutes=5))
    row = affiliate_api.get(URL, {**RANGE, "group_by": "sub1"}).json()["results"][0]
    assert (row["key"], row["conversions"], row["commission"]) == ("blog", 2, "20.00")
