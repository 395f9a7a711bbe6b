"""The programs API: create, read, change; validation naming the field; outsiders see nothing."""

from decimal import Decimal

import pytest

from merchants.models import CommissionRule, Program, ProgramEvent, ProgramTerms
from tests import factories

pytestmark = pytest.mark.django_db

NEW_PROGRAM = {
    "name": "Hostly Partners",
    "description": "Web hosting for small businesses.",
    "category": "hosting",
    "landing_url": "https://www.hostly.example/",
    "allowed_domains": ["*.hostly.example"],
    "cookie_window_days": 90,
    "currency": "USD",
    "approval": "auto",
    "terms": {"ppc_brand_bidding": False, "coupon_sites": False, "promotion_methods": ["content", "email"],
              "text": "No spam."},
    "fraud": {"min_seconds_to_convert": 20, "duplicate_click_window_seconds": 60},
    "rules": [
        {"action": "sale", "type": "percent", "rate": "8", "tiers": [{"min_approved": 50, "rate": "10"}]},
        {"action": "signup", "type": "flat", "amount": "2.50"},
    ],
}


def snapshot(program: Program) -> tuple:
    program.refresh_from_db()
    rules = sorted(CommissionRule.objects.filter(program=program).values_list("action", "type", "rate",
                                                                                "amount_minor"))
    return (program.name, program.landing_url, program.allowed_domains, program.cookie_window_days,
            program.status, program.currency, program.click_param, program.terms_version, program.cache_version,
            tuple(rules), ProgramTerms.objects.filter(program=program).count(),
            ProgramEvent.objects.filter(program=program).count())


def test_a_merchant_creates_a_program_with_rules_terms_and_fraud_settings(tenant, merchant_api):
    response = merchant_api.post("/api/v1/programs/", NEW_PROGRAM, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["merchant"] == tenant.merchant.pk
    assert body["status"] == "draft"
    assert body["allowed_domains"] == ["*.hostly.example"]
    assert body["cookie_window_days"] == 90
    assert body["terms"] == {"version": 1, "promotion_methods": ["content", "email"], "ppc_brand_bidding": False,
                             "coupon_sites": False, "text": "No spam."}
    assert body["fraud"] == {"min_seconds_to_convert": 20, "duplicate_click_window_seconds": 60}
    assert body["rules"] == [
        {"id": body["rules"][0]["id"], "action": "sale", "type": "percent", "rate": "8", "amount": None,
         "recurring": "none", "recurring_months": None, "tiers": [{"min_approved": 50, "rate": "10"}],
         "monthly_cap": None},
        {"id": body["rules"][1]["id"], "action": "signup", "type": "flat", "rate": None, "amount": "2.50",
         "recurring": "none", "recurring_months": None, "tiers": [], "monthly_cap": None},
    ]
    program = Program.objects.get(pk=body["id"])
    assert program.network == tenant.network
    assert CommissionRule.objects.get(program=program, action="signup").amount_minor == 250


def test_an_empty_allow_list_gets_the_landing_host(merchant_api):
    body = {"name": "Tiny", "landing_url": "https://Shop.Tiny.example/start?x=1", "currency": "EUR"}
    response = merchant_api.post("/api/v1/programs/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["allowed_domains"] == ["shop.tiny.example"]
    assert response.json()["currency"] == "EUR"


@pytest.mark.parametrize(("changes", "field"), [
    ({"landing_url": "https://evil.example/"}, "landing_url"),
    ({"landing_url": "javascript:alert(1)"}, "landing_url"),
    ({"allowed_domains": ["not a domain"]}, "allowed_domains"),
    ({"cookie_window_days": 0}, "cookie_window_days"),
    ({"cookie_window_days": 366}, "cookie_window_days"),
    ({"currency": "XYZ"}, "currency"),
    ({"click_param": "bad param"}, "click_param"),
    ({"click_param": "sub1"}, "click_param"),
    ({"attribution": "linear"}, "attribution"),
    ({"rules": [{"action": "sale", "type": "percent", "rate": "120"}]}, "rules.0.rate"),
    ({"rules": [{"action": "sale", "type": "percent"}]}, "rules"),
    ({"rules": [{"action": "sale", "type": "flat", "amount": "2.505"}]}, "rules"),
    ({"rules": [{"action": "sale", "type": "percent", "rate": "8"},
                {"action": "sale", "type": "flat", "amount": "1"}]}, "rules"),
    ({"rules": [{"action": "sale", "type": "percent", "rate": "8",
                 "tiers": [{"min_approved": 50, "rate": "10"}, {"min_approved": 20, "rate": "12"}]}]}, "rules"),
    ({"rules": [{"action": "sale", "type": "percent", "rate": "8", "recurring": "months"}]}, "rules"),
    ({"terms": {"promotion_methods": ["telepathy"]}}, "terms.promotion_methods.0"),
    ({"fraud": {"min_seconds_to_convert": -1}}, "fraud.min_seconds_to_convert"),
    ({"status": "archived"}, "status"),
])
def test_a_bad_patch_names_the_field_and_changes_nothing(tenant, merchant_api, changes, field):
    before = snapshot(tenant.program)
    response = merchant_api.patch(f"/api/v1/programs/{tenant.program.pk}/", changes, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"], response.json()
    assert response.json()["error"]["code"] == "invalid"
    assert snapshot(tenant.program) == before


def test_a_bad_create_names_the_field_and_creates_nothing(tenant, merchant_api):
    count = Program.objects.count()
    response = merchant_api.post("/api/v1/programs/", {**NEW_PROGRAM, "landing_url": "https://elsewhere.example/"},
                                 format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["landing_url"]
    assert Program.objects.count() == count
    assert ProgramTerms.objects.filter(program__name="Hostly Partners").count() == 0


@pytest.mark.parametrize(("start", "to", "allowed"), [
    ("draft", "active", True), ("draft", "closed", True), ("draft", "paused", False),
    ("active", "paused", True), ("active", "closed", True), ("active", "draft", False),
    ("paused", "active", True), ("paused", "closed", True), ("paused", "draft", False),
    ("closed", "active", False), ("closed", "paused", False), ("closed", "draft", False),
])
def test_every_status_transition(tenant, merchant_api, start, to, allowed):
    program = tenant.program
    Program.objects.filter(pk=program.pk).update(status=start)
    before = snapshot(program)
    response = merchant_api.patch(f"/api/v1/programs/{program.pk}/", {"status": to}, format="json")
    program.refresh_from_db()
    if allowed:
        assert response.status_code == 200, response.json()
        assert program.status == to
        event = ProgramEvent.objects.get(program=program)
        assert (event.from_status, event.to_status, event.actor) == (start, to, tenant.merchant_user)
        assert program.cache_version == before[8] + 1
    else:
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["status"]
        assert snapshot(program) == before


def test_activation_needs_a_rule_and_an_approved_merchant(tenant, merchant_api):
    program = factories.ProgramFactory(merchant=tenant.merchant, status=Program.Status.DRAFT)
    response = merchant_api.patch(f"/api/v1/programs/{program.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"status": ["Add at least one commission rule before activating."]}
    # Rules given in the same call count.
    response = merchant_api.patch(f"/api/v1/programs/{program.pk}/", {
        "status": "active", "rules": [{"action": "sale", "type": "percent", "rate": "5"}]}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    tenant.merchant.status = "pending"
    tenant.merchant.save()
    other = factories.ProgramFactory(merchant=tenant.merchant, status=Program.Status.DRAFT)
    factories.CommissionRuleFactory(program=other)
    response = merchant_api.patch(f"/api/v1/programs/{other.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["status"] == ["The merchant must be approved before a program goes live."]


def test_a_patch_changes_fields_bumps_the_cache_version_and_publishes_changed_terms(tenant, merchant_api):
    program = tenant.program
    version = program.cache_version
    response = merchant_api.patch(f"/api/v1/programs/{program.pk}/", {
        "name": "Renamed", "terms": {"ppc_brand_bidding": True}, "cookie_window_days": 45}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "Renamed"
    assert body["cookie_window_days"] == 45
    assert body["terms_version"] == 2
    assert body["terms"]["ppc_brand_bidding"] is True
    program.refresh_from_db()
    assert program.cache_version > version
    # The same terms again publish nothing new.
    response = merchant_api.patch(f"/api/v1/programs/{program.pk}/", {"terms": {"ppc_brand_bidding": True}},
                                  format="json")
    assert response.json()["terms_version"] == 2


def test_currency_is_fixed_once_the_program_left_draft(tenant, merchant_api):
    response = merchant_api.patch(f"/api/v1/programs/{tenant.program.pk}/", {"currency": "EUR"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["currency"]


def test_staff_see_every_program_and_create_for_a_merchant(tenant, staff_api):
    second = factories.MerchantFactory(network=tenant.network)
    factories.ProgramFactory(merchant=second)
    response = staff_api.get("/api/v1/programs/")
    assert response.status_code == 200
    assert response.json()["count"] == 2
    response = staff_api.post("/api/v1/programs/", {**NEW_PROGRAM, "merchant": second.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["merchant"] == second.pk
    response = staff_api.post("/api/v1/programs/", NEW_PROGRAM, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["merchant"]


def test_staff_cannot_create_for_another_networks_merchant(tenant, other_tenant, staff_api):
    count = Program.objects.count()
    response = staff_api.post("/api/v1/programs/", {**NEW_PROGRAM, "merchant": other_tenant.merchant.pk},
                              format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["merchant"]
    assert Program.objects.count() == count


def test_a_merchant_sees_only_its_own_programs(tenant, merchant_api):
    other_merchant_program = factories.ProgramFactory(merchant=factories.MerchantFactory(network=tenant.network))
    response = merchant_api.get("/api/v1/programs/")
    assert [row["id"] for row in response.json()["results"]] == [tenant.program.pk]
    assert merchant_api.get(f"/api/v1/programs/{other_merchant_program.pk}/").status_code == 404
    before = snapshot(other_merchant_program)
    response = merchant_api.patch(f"/api/v1/programs/{other_merchant_program.pk}/", {"name": "Mine"}, format="json")
    assert response.status_code == 404
    assert snapshot(other_merchant_program) == before


def test_a_merchant_cannot_create_for_another_merchant(tenant, merchant_api):
    other = factories.MerchantFactory(network=tenant.network)
    response = merchant_api.post("/api/v1/programs/", {**NEW_PROGRAM, "merchant": other.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["merchant"] == tenant.merchant.pk


def test_another_network_sees_nothing(tenant, other_tenant):
    client = other_tenant.client_for("merchant")
    staff = other_tenant.client_for("staff")
    before = snapshot(tenant.program)
    for api in (client, staff):
        assert api.get(f"/api/v1/programs/{tenant.program.pk}/").status_code == 404
        assert api.patch(f"/api/v1/programs/{tenant.program.pk}/", {"name": "x"}, format="json").status_code == 404
        ids = [row["id"] for row in api.get("/api/v1/programs/").json()["results"]]
        assert tenant.program.pk not in ids
    assert snapshot(tenant.program) == before


def test_affiliates_are_refused(tenant, affiliate_api):
    count = Program.objects.count()
    assert affiliate_api.get("/api/v1/programs/").status_code == 403
    assert affiliate_api.get(f"/api/v1/programs/{tenant.program.pk}/").status_code == 403
    assert affiliate_api.post("/api/v1/programs/", NEW_PROGRAM, format="json").status_code == 403
    assert Program.objects.count() == count


def test_analysts_read_but_do_not_write(tenant):
    from merchants.models import MerchantMembership
    from network.models import ApiKey

    analyst = factories.MerchantMembershipFactory(merchant=tenant.merchant, role=MerchantMembership.Role.ANALYST).user
    key = factories.api_key_for(network=tenant.network, user=analyst, kind=ApiKey.ActorKind.MERCHANT,
                                actor_id=tenant.merchant.pk)
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    before = snapshot(tenant.program)
    assert client.get("/api/v1/programs/").status_code == 200
    response = client.patch(f"/api/v1/programs/{tenant.program.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert client.post("/api/v1/programs/", NEW_PROGRAM, format="json").status_code == 403
    assert snapshot(tenant.program) == before


def test_the_list_has_a_pinned_query_count(tenant, merchant_api, django_assert_num_queries):
    for _ in range(5):
        program = factories.ProgramFactory(merchant=tenant.merchant)
        factories.CommissionRuleFactory(program=program)
        factories.CommissionRuleFactory(program=program, action="lead", type="flat", rate=None, amount_minor=100)
        factories.ProgramTermsFactory(program=program)
    merchant_api.get("/api/v1/programs/")  # warm the key's last-used bookkeeping
    with django_assert_num_queries(6):
        response = merchant_api.get("/api/v1/programs/")
    assert response.json()["count"] == 6
    assert Decimal(response.json()["results"][0]["rules"][0]["rate"] or "0") >= 0


def test_private_affiliate_rates_through_the_api(tenant, other_tenant, merchant_api):
    url = f"/api/v1/programs/{tenant.program.pk}/affiliate-rates/"
    response = merchant_api.post(url, {"affiliate": tenant.affiliate.pk, "type": "percent", "rate": "15"},
                                 format="json")
    assert response.status_code == 200, response.json()
    assert [(row["affiliate"], row["action"], row["rate"], row["amount"]) for row in response.json()["results"]] == [
        (tenant.affiliate.pk, "sale", "15", None)]
    from merchants.models import ProgramAffiliateRate

    response = merchant_api.post(url, {"affiliate": other_tenant.affiliate.pk, "type": "percent", "rate": "15"},
                                 format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["affiliate"]
    response = merchant_api.post(url, {"affiliate": tenant.affiliate.pk, "action": "signup", "type": "flat"},
                                 format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["amount"]
    assert ProgramAffiliateRate.objects.count() == 1
    assert other_tenant.client_for("merchant").get(url).status_code == 404
    assert other_tenant.client_for("staff").post(url, {"affiliate": other_tenant.affiliate.pk, "type": "percent",
                                                       "rate": "1"}, format="json").status_code == 404
    assert ProgramAffiliateRate.objects.count() == 1
