"""Dashboards: numbers shown, empty states, query counts, bad filters, outsiders; CSV exports."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from reports import services
from reports.models import HourlyRollup
from tests import factories
from tests.reports.factories import clicks, conversion, link_for
from tracking.models import Conversion


def today_at(hour: int = 9) -> datetime:
    now = timezone.now().astimezone(UTC)
    return now.replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(days=1)


@pytest.fixture
def seeded(tenant):
    at = today_at()
    link_a = link_for(tenant, label="Banner A")
    link_b = link_for(tenant, label="Banner B")
    first = clicks(link_a, at=at, count=100, unique=80, sub1="homepage", country="VN", device="mobile")
    clicks(link_b, at=at, count=60, sub1="=cmd|' /C calc'!A0", country="DE", device="desktop")
    for index, status in enumerate(["approved", "pending", "hold", "reversed"]):
        conversion(link_a, at=at, click=first[index], sub1="homepage", amount_minor=20000, commission_minor=2000,
                   status=status)
    neighbour = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    other_merchant_program = factories.ProgramFactory(merchant__network=tenant.network, name="Rival Shop")
    other_link = link_for(tenant, affiliate=neighbour.affiliate, program=other_merchant_program, label="Secret link")
    clicks(other_link, at=at, count=33, sub1="neighbour-sub")
    services.refresh_rollups(now=timezone.now() + timedelta(minutes=5))
    return {"a": link_a, "b": link_b, "neighbour": neighbour, "other_program": other_merchant_program}


def login(client, user):
    client.force_login(user)
    return client


def test_affiliate_dashboard_shows_own_numbers(tenant, seeded, client, django_assert_max_num_queries):
    login(client, tenant.affiliate_user)
    # About 14 of these are the layout's (session, tenancy, role switcher); the count does not grow with rows.
    with django_assert_max_num_queries(35):
        response = client.get("/portal/reports/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-kpi="clicks">160<' in body
    assert 'data-kpi="conversions">3<' in body  # approved + pending + hold; the reversal no longer counts
    assert 'data-kpi="earnings-USD">$60.00<' in body
    assert "Banner A" in body and "Banner B" in body and "homepage" in body
    assert "<svg" in body and "<title" in body
    assert "Secret link" not in body and "neighbour-sub" not in body and "Rival Shop" not in body
    assert 'id="concentration-warning"' in body  # one program brings 100 %
    assert 'id="ab-verdict"' in body


def test_affiliate_dashboard_compares_links(tenant, seeded, client):
    login(client, tenant.affiliate_user)
    response = client.get("/portal/reports/", {"link_a": seeded["b"].pk, "link_b": seeded["a"].pk})
    body = response.content.decode()
    assert "Not enough evidence yet" in body or "statistically significant" in body
    other = client.get("/portal/reports/", {"link_a": seeded["b"].pk, "link_b": 999999})
    assert other.status_code == 404


def test_another_affiliate_sees_none_of_my_rows(tenant, seeded, client):
    login(client, seeded["neighbour"].user)
    body = client.get("/portal/reports/").content.decode()
    assert 'data-kpi="clicks">33<' in body
    assert "Banner A" not in body and "homepage" not in body
    export = client.get("/portal/reports/export/link.csv")
    assert "Banner A" not in b"".join(export.streaming_content).decode()
    assert client.get("/portal/reports/", {"link_a": seeded["a"].pk, "link_b": seeded["b"].pk}).status_code == 404


def test_new_affiliate_gets_an_empty_state(other_tenant, client):
    login(client, other_tenant.affiliate_user)
    body = client.get("/portal/reports/").content.decode()
    assert 'id="reports-empty"' in body and "marketplace" in body


def test_bad_filters_are_a_400_naming_the_field(tenant, seeded, client):
    login(client, tenant.affiliate_user)
    before = HourlyRollup.objects.count()
    response = client.get("/portal/reports/", {"from": "2026-13-01"})
    assert response.status_code == 400
    assert "<strong>from</strong>" in response.content.decode()
    assert HourlyRollup.objects.count() == before


def test_merchant_dashboard(tenant, seeded, client, django_assert_max_num_queries):
    login(client, tenant.merchant_user)
    with django_assert_max_num_queries(35):
        response = client.get("/merchant/reports/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-kpi="clicks">160<' in body
    assert 'data-kpi="approved">1<' in body
    assert 'data-kpi="reversal-rate">50 %<' in body  # 1 reversed of (1 approved + 1 reversed)
    assert 'data-kpi="sales-USD">$600.00<' in body
    assert 'data-kpi="pending">1<' in body and 'data-kpi="hold">1<' in body
    assert "Conversion funnel" in body
    assert tenant.affiliate.name in body
    assert "Rival Shop" not in body and seeded["neighbour"].affiliate.name not in body
    assert client.get("/merchant/reports/", {"program": seeded["other_program"].pk}).status_code == 404
    bad = client.get("/merchant/reports/", {"currency": "EURO"})
    assert bad.status_code == 400 and "<strong>currency</strong>" in bad.content.decode()


def test_new_merchant_gets_an_empty_state(other_tenant, client):
    login(client, other_tenant.merchant_user)
    body = client.get("/merchant/reports/").content.decode()
    assert 'id="reports-empty"' in body and "share it" in body


def test_console_dashboard(tenant, seeded, client, django_assert_max_num_queries):
    login(client, tenant.owner)
    with django_assert_max_num_queries(45):
        response = client.get("/console/reports/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-kpi="clicks">193<' in body
    assert 'data-kpi="gmv-USD">$600.00<' in body  # approved + pending + hold sale amounts
    assert 'data-kpi="hold">1<' in body
    assert 'data-kpi="programs">2<' in body
    assert "Rival Shop" in body


def test_outsiders_get_404(tenant, seeded, other_tenant, client):
    login(client, other_tenant.owner)
    # The other network's staff on its own console sees none of this network's rows.
    body = client.get("/console/reports/").content.decode()
    assert "Banner A" not in body and 'id="reports-empty"' in body
    login(client, tenant.affiliate_user)
    assert client.get("/merchant/reports/").status_code == 404
    assert client.get("/console/reports/").status_code == 404
    login(client, tenant.merchant_user)
    assert client.get("/portal/reports/").status_code == 404


def rows_of(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_exports_stream_tables_and_raw_rows(tenant, seeded, client):
    login(client, tenant.affiliate_user)
    response = client.get("/portal/reports/export/sub1.csv")
    assert response.status_code == 200 and response.streaming
    rows = rows_of(response)
    assert rows[0][:4] == ["key", "label", "currency", "clicks"]
    by_key = {row[0]: row for row in rows[1:]}
    assert by_key["homepage"][3] == "100"
    assert by_key["homepage"][11] == "60.00"  # commission
    assert "'=cmd|' /C calc'!A0" in by_key  # a formula is neutralised
    raw = rows_of(client.get("/portal/reports/export/clicks.csv"))
    assert len(raw) == 1 + 160
    conversions = rows_of(client.get("/portal/reports/export/conversions.csv"))
    assert len(conversions) == 1 + 4
    assert {row[7] for row in conversions[1:]} == {"approved", "pending", "hold", "reversed"}
    assert client.get("/portal/reports/export/affiliate.csv").status_code == 404
    assert client.get("/portal/reports/export/day.csv", {"to": "nope"}).status_code == 400


def test_merchant_export_is_scoped(tenant, seeded, client):
    login(client, tenant.merchant_user)
    raw = rows_of(client.get("/merchant/reports/export/clicks.csv"))
    assert len(raw) == 1 + 160
    affiliates = rows_of(client.get("/merchant/reports/export/affiliate.csv"))
    assert [row[1] for row in affiliates[1:]] == [tenant.affiliate.name]


def test_rollup_counts_match_conversion_statuses(tenant, seeded):
    assert Conversion.objects.filter(affiliate=tenant.affiliate).count() == 4


def test_review_queue_counts_open_claims_of_my_programs(tenant, seeded):
    from datetime import date

    from reports import selectors
    from tracking.models import ConversionClaim

    for program, affiliate, order in ((tenant.program, tenant.affiliate, "c-1"),
                                      (seeded["other_program"], seeded["neighbour"].affiliate, "c-2")):
        ConversionClaim.objects.create(network=tenant.network, program=program, merchant_id=program.merchant_id,
                                       affiliate=affiliate, order_id=order, order_date=date(2026, 3, 1),
                                       amount_minor=1000, currency="USD")
    mine = selectors.review_queue(network=tenant.network, merchant_id=tenant.merchant.pk)
    assert mine == {"pending": 1, "hold": 1, "reversal_requests": 0, "claims": 1}
    assert selectors.review_queue(network=tenant.network, merchant_id=None)["claims"] == 2
