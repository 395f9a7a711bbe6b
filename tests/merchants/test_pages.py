"""Merchant dashboard and console merchant pages: happy paths, validation, analysts, outsiders."""

import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from merchants.models import (
    CommissionRule,
    Creative,
    Merchant,
    MerchantMembership,
    Program,
    ProgramAffiliateRate,
    ProgramEvent,
    ProgramTerms,
)
from network.models import Invitation
from tests import factories

pytestmark = pytest.mark.django_db

PROGRAM_FORM = {
    "name": "Eco Gear", "description": "Gear for green travel", "category": "travel",
    "landing_url": "https://www.ecogear.example/", "allowed_domains": "*.ecogear.example",
    "cookie_window_days": "30", "attribution": "last_click", "approval": "manual", "visibility": "public",
    "currency": "EUR", "lock_days": "30", "click_param": "aff_click", "min_seconds_to_convert": "10",
    "duplicate_click_window_seconds": "30", "rule_action": "sale", "rule_type": "percent", "rule_value": "8",
}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def merchant_client(tenant) -> Client:
    return client_for(tenant.merchant_user)


@pytest.fixture
def analyst_client(tenant) -> Client:
    analyst = factories.MerchantMembershipFactory(merchant=tenant.merchant, role=MerchantMembership.Role.ANALYST)
    return client_for(analyst.user)


@pytest.fixture
def same_network_merchant_client(tenant) -> Client:
    return client_for(factories.MerchantMembershipFactory(merchant__network=tenant.network).user)


def program_urls(pk: int) -> list[str]:
    return [f"/merchant/programs/{pk}/", f"/merchant/programs/{pk}/edit/", f"/merchant/programs/{pk}/rules/",
            f"/merchant/programs/{pk}/terms/", f"/merchant/programs/{pk}/creatives/",
            f"/merchant/programs/{pk}/settings/"]


def test_every_page_renders_for_the_merchant(tenant, merchant_client):
    for url in ["/merchant/", "/merchant/programs/", "/merchant/programs/new/", "/merchant/team/",
                *program_urls(tenant.program.pk)]:
        response = merchant_client.get(url)
        assert response.status_code == 200, url
    home = merchant_client.get("/merchant/").content.decode()
    for link in ["/merchant/programs/", "/merchant/enrollments/", "/merchant/conversions/", "/merchant/team/",
                 "/merchant/api-keys/", "/merchant/integration/"]:
        assert f'href="{link}"' in home


def test_create_a_program_from_the_dashboard(tenant, merchant_client):
    response = merchant_client.post("/merchant/programs/new/", PROGRAM_FORM)
    program = Program.objects.get(name="Eco Gear")
    assert response.status_code == 302
    assert response["Location"] == f"/merchant/programs/{program.pk}/"
    assert (program.merchant, program.currency, program.status, program.allowed_domains) == (
        tenant.merchant, "EUR", "draft", ["*.ecogear.example"])
    rule = CommissionRule.objects.get(program=program)
    assert (rule.action, rule.type, rule.rate) == ("sale", "percent", 8)
    assert ProgramTerms.objects.filter(program=program, version=1).exists()


def test_a_bad_program_form_names_the_field_and_creates_nothing(tenant, merchant_client):
    count = Program.objects.count()
    response = merchant_client.post("/merchant/programs/new/", {**PROGRAM_FORM,
                                                                "landing_url": "https://elsewhere.example/"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"landing_url": ["The landing URL must be on one of the allowed domains."]}
    assert Program.objects.count() == count


def test_status_buttons_with_htmx(tenant, merchant_client):
    program = tenant.program
    response = merchant_client.post(f"/merchant/programs/{program.pk}/status/", {"status": "paused"},
                                    HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="status-panel"' in response.content.decode()
    program.refresh_from_db()
    assert program.status == "paused"
    assert ProgramEvent.objects.filter(program=program, to_status="paused").count() == 1
    response = merchant_client.post(f"/merchant/programs/{program.pk}/status/", {"status": "draft"},
                                    HTTP_HX_REQUEST="true")
    assert "A paused program cannot become draft" in response.content.decode()
    program.refresh_from_db()
    assert program.status == "paused"


def test_edit_a_program(tenant, merchant_client):
    program = tenant.program
    data = {**PROGRAM_FORM, "landing_url": "https://shop.example.com/new", "allowed_domains": "shop.example.com",
            "currency": "USD", "cookie_window_days": "60"}
    response = merchant_client.post(f"/merchant/programs/{program.pk}/edit/", data)
    assert response.status_code == 302
    program.refresh_from_db()
    assert (program.cookie_window_days, program.landing_url) == (60, "https://shop.example.com/new")
    response = merchant_client.post(f"/merchant/programs/{program.pk}/edit/", {**data, "cookie_window_days": "400"})
    assert response.status_code == 400
    assert "cookie_window_days" in response.context["form"].errors
    program.refresh_from_db()
    assert program.cookie_window_days == 60


def rules_post(rows: list[dict]) -> dict:
    data = {"rules-TOTAL_FORMS": str(len(rows)), "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "0",
            "rules-MAX_NUM_FORMS": "20"}
    for index, row in enumerate(rows):
        base = {"action": "", "type": "percent", "value": "", "recurring": "none", "recurring_months": "",
                "monthly_cap": "", "tiers": ""}
        for key, value in {**base, **row}.items():
            data[f"rules-{index}-{key}"] = value
    return data


def test_the_rules_editor(tenant, merchant_client):
    program = tenant.program
    response = merchant_client.post(f"/merchant/programs/{program.pk}/rules/", rules_post([
        {"action": "sale", "type": "percent", "value": "8", "tiers": "50:10", "recurring": "months",
         "recurring_months": "12"},
        {"action": "signup", "type": "flat", "value": "5.00", "monthly_cap": "100"},
    ]))
    assert response.status_code == 302
    rules = {rule.action: rule for rule in CommissionRule.objects.filter(program=program)}
    assert rules["sale"].tiers == [{"min_approved": 50, "rate": "10"}]
    assert (rules["sale"].recurring, rules["sale"].recurring_months) == ("months", 12)
    assert (rules["signup"].amount_minor, rules["signup"].monthly_cap_per_affiliate) == (500, 100)
    # A bad tier list changes nothing.
    response = merchant_client.post(f"/merchant/programs/{program.pk}/rules/", rules_post([
        {"action": "sale", "type": "percent", "value": "8", "tiers": "50:10, 20:12"}]))
    assert response.status_code == 400
    assert "tier thresholds" in response.content.decode()
    assert CommissionRule.objects.filter(program=program).count() == 2


def test_a_private_rate_for_an_enrolled_affiliate(tenant, merchant_client):
    program = tenant.program
    factories.EnrollmentFactory(program=program, affiliate=tenant.affiliate)
    response = merchant_client.post(f"/merchant/programs/{program.pk}/rules/", {
        "rate-affiliate": str(tenant.affiliate.pk), "rate-action": "sale", "rate-type": "percent",
        "rate-value": "15"})
    assert response.status_code == 302
    rate = ProgramAffiliateRate.objects.get(program=program)
    assert (rate.affiliate, rate.rate) == (tenant.affiliate, 15)
    # An affiliate not enrolled is not a choice.
    stranger = factories.AffiliateFactory(network=tenant.network)
    response = merchant_client.post(f"/merchant/programs/{program.pk}/rules/", {
        "rate-affiliate": str(stranger.pk), "rate-action": "sale", "rate-type": "percent", "rate-value": "15"})
    assert response.status_code == 400
    assert ProgramAffiliateRate.objects.count() == 1


def test_publish_terms(tenant, merchant_client):
    program = tenant.program
    response = merchant_client.post(f"/merchant/programs/{program.pk}/terms/", {
        "promotion_methods": ["content", "social"], "ppc_brand_bidding": "", "coupon_sites": "on",
        "text": "Be nice."})
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.terms_version == 2
    terms = ProgramTerms.objects.get(program=program, version=2)
    assert (terms.promotion_methods, terms.ppc_brand_bidding, terms.coupon_sites, terms.text) == (
        ["content", "social"], False, True, "Be nice.")
    page = merchant_client.get(f"/merchant/programs/{program.pk}/terms/").content.decode()
    assert "Version 2" in page and "Version 1" in page
    response = merchant_client.post(f"/merchant/programs/{program.pk}/terms/", {"promotion_methods": ["fax"]})
    assert response.status_code == 400
    program.refresh_from_db()
    assert program.terms_version == 2


def test_creatives_pages(tenant, merchant_client):
    program = tenant.program
    buffer = io.BytesIO()
    Image.new("RGB", (468, 60), (0, 0, 0)).save(buffer, format="GIF")
    response = merchant_client.post(f"/merchant/programs/{program.pk}/creatives/", {
        "kind": "banner", "name": "Leaderboard", "alt_text": "Shop",
        "image": SimpleUploadedFile("b.gif", buffer.getvalue(), content_type="image/gif")})
    assert response.status_code == 302
    creative = Creative.objects.get(program=program)
    assert (creative.width, creative.height, creative.is_active) == (468, 60, True)
    merchant_client.post(f"/merchant/programs/{program.pk}/creatives/{creative.pk}/toggle/")
    creative.refresh_from_db()
    assert creative.is_active is False
    response = merchant_client.post(f"/merchant/programs/{program.pk}/creatives/", {
        "kind": "text", "name": "Off", "text": "x", "destination_url": "https://evil.example/"})
    assert response.status_code == 400
    assert "destination_url" in response.context["form"].errors
    assert Creative.objects.count() == 1


def test_settings_regenerate_the_postback_token_and_change_the_click_param(tenant, merchant_client):
    program = tenant.program
    old_token, old_version = program.postback_token, program.cache_version
    merchant_client.post(f"/merchant/programs/{program.pk}/settings/", {"regenerate": "1"})
    program.refresh_from_db()
    assert program.postback_token != old_token
    assert program.cache_version == old_version + 1
    response = merchant_client.post(f"/merchant/programs/{program.pk}/settings/", {"click_param": "cid"})
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.click_param == "cid"
    response = merchant_client.post(f"/merchant/programs/{program.pk}/settings/", {"click_param": "bad-param!"})
    assert response.status_code == 400
    program.refresh_from_db()
    assert program.click_param == "cid"


def test_analysts_read_everything_and_change_nothing(tenant, analyst_client):
    program = tenant.program
    for url in ["/merchant/", "/merchant/programs/", "/merchant/team/", f"/merchant/programs/{program.pk}/",
                f"/merchant/programs/{program.pk}/rules/", f"/merchant/programs/{program.pk}/terms/"]:
        assert analyst_client.get(url).status_code == 200, url
    assert analyst_client.get("/merchant/programs/new/").status_code == 403
    token = program.postback_token
    for url, data in [(f"/merchant/programs/{program.pk}/status/", {"status": "paused"}),
                      (f"/merchant/programs/{program.pk}/settings/", {"regenerate": "1"}),
                      (f"/merchant/programs/{program.pk}/terms/", {"text": "x"}),
                      ("/merchant/programs/new/", PROGRAM_FORM),
                      ("/merchant/team/", {"email": "x@example.test", "role": "admin"})]:
        assert analyst_client.post(url, data).status_code == 403, url
    program.refresh_from_db()
    assert (program.status, program.postback_token, program.terms_version) == ("active", token, 1)
    assert Invitation.objects.count() == 0
    assert "Activate" not in analyst_client.get(f"/merchant/programs/{program.pk}/").content.decode()


def test_another_merchant_of_the_network_gets_404(tenant, same_network_merchant_client):
    program = tenant.program
    for url in program_urls(program.pk):
        assert same_network_merchant_client.get(url).status_code == 404, url
    response = same_network_merchant_client.post(f"/merchant/programs/{program.pk}/status/", {"status": "paused"})
    assert response.status_code == 404
    program.refresh_from_db()
    assert program.status == "active"


def test_another_network_and_affiliates_get_404(tenant, other_tenant):
    program = tenant.program
    for user in (other_tenant.merchant_user, other_tenant.owner, tenant.affiliate_user):
        client = client_for(user)
        for url in program_urls(program.pk):
            assert client.get(url).status_code == 404, (user, url)
    assert client_for(tenant.affiliate_user).get("/merchant/").status_code == 404


def test_team_invite_sends_mail_on_commit(tenant, merchant_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post("/merchant/team/", {"email": "analyst@shop.example", "role": "analyst"})
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.kind, invitation.target_id, invitation.role) == ("merchant", tenant.merchant.pk, "analyst")
    assert mail.outbox[0].to == ["analyst@shop.example"]
    response = merchant_client.post("/merchant/team/", {"email": tenant.merchant_user.email, "role": "admin"})
    assert response.status_code == 400
    assert Invitation.objects.count() == 1


def test_the_last_admin_stays(tenant, merchant_client):
    membership = MerchantMembership.objects.get(user=tenant.merchant_user)
    other_admin = factories.MerchantMembershipFactory(merchant=tenant.merchant)
    merchant_client.post(f"/merchant/team/{other_admin.pk}/", {"role": "analyst"})
    other_admin.refresh_from_db()
    assert other_admin.role == "analyst"
    from merchants import services

    with pytest.raises(Exception, match="at least one admin"):
        services.change_member_role(network=tenant.network, merchant_id=tenant.merchant.pk,
                                    membership_id=membership.pk, role="analyst", actor=None)


def test_team_member_of_another_merchant_is_404(tenant, merchant_client):
    stranger = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    assert merchant_client.post(f"/merchant/team/{stranger.pk}/", {"role": ""}).status_code == 404
    assert MerchantMembership.objects.filter(pk=stranger.pk).exists()


def test_apply_as_a_merchant(tenant):
    # A signed-in affiliate of the network applies to run a merchant too.
    client = client_for(tenant.affiliate_user)
    assert client.get("/merchant/apply/").status_code == 200
    response = client.post("/merchant/apply/", {"name": "Lingo Pro", "website": "https://lingo.example",
                                                "country": "vn"})
    assert response.status_code == 302
    merchant = Merchant.objects.get(name="Lingo Pro")
    assert (merchant.status, merchant.country, merchant.network) == ("pending", "VN", tenant.network)
    assert MerchantMembership.objects.get(merchant=merchant).user == tenant.affiliate_user
    response = client.post("/merchant/apply/", {"name": tenant.merchant.name})
    assert response.status_code == 400
    assert Merchant.objects.filter(network=tenant.network).count() == 2


def test_apply_needs_a_login():
    response = Client().get("/merchant/apply/")
    assert response.status_code == 302


def test_console_merchants(tenant, django_capture_on_commit_callbacks):
    staff = client_for(tenant.owner)
    assert staff.get("/console/merchants/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/console/merchants/", {"name": "Hostly", "owner_email": "ops@hostly.example"})
    merchant = Merchant.objects.get(name="Hostly")
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert staff.get(f"/console/merchants/{merchant.pk}/").status_code == 200
    response = staff.post("/console/merchants/", {"name": "Hostly", "owner_email": "x@hostly.example"})
    assert response.status_code == 400
    assert Merchant.objects.filter(name="Hostly").count() == 1


def test_console_approve_suspend_and_fee(tenant):
    staff = client_for(tenant.owner)
    pending = factories.MerchantFactory(network=tenant.network, status="pending")
    staff.post(f"/console/merchants/{pending.pk}/", {"status": "active"})
    pending.refresh_from_db()
    assert pending.status == "active"
    staff.post(f"/console/merchants/{pending.pk}/", {"status": "suspended"})
    pending.refresh_from_db()
    assert pending.status == "suspended"
    response = staff.post(f"/console/merchants/{pending.pk}/", {"fee_type": "percent_of_commission",
                                                                "fee_rate": "15"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.fee_type, pending.fee_rate, pending.fee_flat_minor) == ("percent_of_commission", 15, None)
    response = staff.post(f"/console/merchants/{pending.pk}/", {"fee_type": "flat"})
    assert response.status_code == 400
    assert "fee_flat" in response.context["fee_form"].errors
    pending.refresh_from_db()
    assert pending.fee_type == "percent_of_commission"


def test_console_merchants_are_the_networks_only(tenant, other_tenant):
    staff = client_for(tenant.owner)
    assert staff.get(f"/console/merchants/{other_tenant.merchant.pk}/").status_code == 404
    response = staff.post(f"/console/merchants/{other_tenant.merchant.pk}/", {"status": "suspended"})
    assert response.status_code == 404
    other_tenant.merchant.refresh_from_db()
    assert other_tenant.merchant.status == "active"
    assert other_tenant.merchant.name not in staff.get("/console/merchants/").content.decode()
    assert client_for(tenant.merchant_user).get("/console/merchants/").status_code == 404


def test_console_list_has_a_pinned_query_count(tenant, django_assert_max_num_queries):
    for _ in range(10):
        factories.MerchantFactory(network=tenant.network)
    staff = client_for(tenant.owner)
    staff.get("/console/merchants/")
    with django_assert_max_num_queries(17):
        assert staff.get("/console/merchants/").status_code == 200


def test_dashboard_lists_do_not_grow_with_programs(tenant, merchant_client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert merchant_client.get(url).status_code == 200
        return len(queries)

    merchant_client.get("/merchant/")
    few = {url: count(url) for url in ("/merchant/", "/merchant/programs/")}
    for _ in range(6):
        factories.CommissionRuleFactory(program=factories.ProgramFactory(merchant=tenant.merchant))
    assert {url: count(url) for url in ("/merchant/", "/merchant/programs/")} == few
    with django_assert_num_queries(few["/merchant/programs/"]):
        merchant_client.get("/merchant/programs/")
