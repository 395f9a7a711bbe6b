"""The marketplace: visibility, filters, figures from ProgramMetrics and a pinned query count."""

from decimal import Decimal

import pytest

from affiliates.models import ProgramMetrics
from merchants.models import CommissionRule, Program
from tests import factories
from tests.affiliates.factories import ProgramInvitationFactory, ProgramMetricsFactory
from tests.affiliates.helpers import second_affiliate

pytestmark = pytest.mark.django_db


def names(response):
    return [row["name"] for row in response.json()["results"]]


def test_marketplace_shows_active_public_programs_with_terms_and_zero_figures(tenant, affiliate_api):
    response = affiliate_api.get("/api/v1/marketplace/")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == tenant.program.pk
    assert row["merchant"] == tenant.merchant.name
    assert row["cookie_window_days"] == 30
    assert row["approval"] == "auto"
    assert row["rules"] == [{"action": "sale", "type": "percent", "rate": "10", "amount": None,
                             "recurring": "none", "recurring_months": None, "tiers": []}]
    assert (row["epc"], row["conversion_rate"], row["average_commission"], row["reversal_rate"]) == (
        "0.00", "0.00", "0.00", "0.00")
    assert row["funding_status"] == "unknown"
    assert "bank" in row["payout_methods"]
    assert row["enrollment_status"] is None


def test_figures_come_from_program_metrics(tenant, affiliate_api):
    ProgramMetricsFactory(program=tenant.program, clicks_90d=400, conversions_90d=10,
                          approved_commission_90d_minor=12345, conversions_count_for_average=8, reversed_90d=1,
                          funding_status=ProgramMetrics.Funding.FUNDED)

    row = affiliate_api.get("/api/v1/marketplace/").json()["results"][0]

    # EPC = 123.45 USD * 100 / 400 clicks = 30.8625 → 30.86 (half-even); CR = 10/400; average = 123.45/8
    assert row["epc"] == "30.86"
    assert row["conversion_rate"] == "2.50"
    assert row["average_commission"] == "15.43"
    assert row["reversal_rate"] == "10.00"
    assert row["funding_status"] == "funded"


def test_hidden_programs_and_other_networks_are_not_listed(tenant, other_tenant, affiliate_api):
    factories.ProgramFactory(merchant=tenant.merchant, name="Draft", status=Program.Status.DRAFT)
    factories.ProgramFactory(merchant=tenant.merchant, name="Paused", status=Program.Status.PAUSED)
    private = factories.ProgramFactory(merchant=tenant.merchant, name="Private",
                                       visibility=Program.Visibility.PRIVATE)
    other_affiliate, other_api = second_affiliate(tenant)
    ProgramInvitationFactory(program=private, affiliate=other_affiliate)

    assert names(affiliate_api.get("/api/v1/marketplace/")) == [tenant.program.name]
    assert names(other_api.get("/api/v1/marketplace/")) == sorted([tenant.program.name, "Private"])


def test_filters(tenant, affiliate_api):
    Program.objects.filter(pk=tenant.program.pk).update(name="Hosting Pro", category="hosting",
                                                        cookie_window_days=90)
    travel = factories.ProgramFactory(merchant=tenant.merchant, name="Eco Travel", category="travel",
                                      currency="EUR", cookie_window_days=30, description="Green backpacks")
    factories.CommissionRuleFactory(program=travel, type=CommissionRule.Type.FLAT, rate=None, amount_minor=250)

    assert names(affiliate_api.get("/api/v1/marketplace/?q=backpack")) == ["Eco Travel"]
    assert names(affiliate_api.get("/api/v1/marketplace/?category=hosting")) == ["Hosting Pro"]
    assert names(affiliate_api.get("/api/v1/marketplace/?commission_type=flat")) == ["Eco Travel"]
    assert names(affiliate_api.get("/api/v1/marketplace/?min_cookie_days=60")) == ["Hosting Pro"]
    assert names(affiliate_api.get("/api/v1/marketplace/?currency=eur")) == ["Eco Travel"]
    flat = affiliate_api.get("/api/v1/marketplace/?commission_type=flat").json()["results"][0]
    assert flat["rules"][0]["amount"] == "2.50"


@pytest.mark.parametrize(("query", "field"), [("commission_type=cpm", "commission_type"),
                                               ("min_cookie_days=many", "min_cookie_days")])
def test_bad_filters_name_the_field(affiliate_api, query, field):
    response = affiliate_api.get(f"/api/v1/marketplace/?{query}")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_marketplace_shows_my_enrollment_status(tenant, affiliate_api):
    factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate)

    assert affiliate_api.get("/api/v1/marketplace/").json()["results"][0]["enrollment_status"] == "approved"


def test_marketplace_query_count_does_not_grow_with_programs(tenant, affiliate_api, django_assert_num_queries):
    ProgramMetricsFactory(program=tenant.program, clicks_90d=10)
    for index in range(8):
        program = factories.ProgramFactory(merchant=tenant.merchant)
        factories.CommissionRuleFactory(program=program, rate=Decimal(index + 1))
        factories.CommissionRuleFactory(program=program, action="lead", type=CommissionRule.Type.FLAT, rate=None,
                                        amount_minor=100)
        ProgramMetricsFactory(program=program, clicks_90d=index)

    # auth and actor lookups, count, programs (merchant and metrics joined), rules and private-rate prefetches
    with django_assert_num_queries(7):
        response = affiliate_api.get("/api/v1/marketplace/")

    assert response.json()["count"] == 9


def test_merchants_cannot_use_the_marketplace_endpoint(merchant_api):
    assert merchant_api.get("/api/v1/marketplace/").status_code == 403


def test_private_rates_show_only_to_their_affiliate(tenant, affiliate_api):
    from merchants.models import ProgramAffiliateRate

    ProgramAffiliateRate.objects.create(network=tenant.network, program=tenant.program, affiliate=tenant.affiliate,
                                        action="sale", type=CommissionRule.Type.PERCENT, rate=Decimal("12.5"))
    _, other_api = second_affiliate(tenant)

    mine = affiliate_api.get("/api/v1/marketplace/").json()["results"][0]["my_rates"]
    theirs = other_api.get("/api/v1/marketplace/").json()["results"][0]["my_rates"]

    assert mine == [{"action": "sale", "type": "percent", "rate": "12.5", "amount": None}]
    assert theirs == []
