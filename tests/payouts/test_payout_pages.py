"""Pages: console review (approve, remove, bank file, mark paid), portal payouts and settings; outsiders 404."""

import pytest

from payouts import payout_services
from payouts.models import Payout, PayoutBatch, PayoutProfile
from tests import factories
from tests.payouts.payout_helpers import NOW, assert_ledger_sound, available, earn, profile, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(tenant, client):
    client.force_login(tenant.owner)
    return client


@pytest.fixture
def portal(tenant, client):
    client.force_login(tenant.affiliate_user)
    return client


def build(tenant, **kwargs):
    profile(tenant, **kwargs)
    earn(tenant, 6000)
    return payout_services.build_payout_batch(network=tenant.network, now=NOW).batch


def test_console_lists_batches_and_shows_one(tenant, staff, django_assert_max_num_queries):
    batch = build(tenant)

    with django_assert_max_num_queries(25):
        listing = staff.get("/console/payouts/")
    detail = staff.get(f"/console/payouts/{batch.pk}/").content.decode()

    assert "2026-03" in listing.content.decode()
    assert "Approve and send" in detail and tenant.affiliate.name in detail and "$60.00" in detail


def test_console_is_empty_with_a_hint(staff):
    assert "No payout batches yet" in staff.get("/console/payouts/").content.decode()


def test_console_approves_and_the_sandbox_pays(tenant, staff, django_capture_on_commit_callbacks):
    batch = build(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"/console/payouts/{batch.pk}/approve/")

    assert response.status_code == 302
    assert Payout.objects.get().status == "paid"
    assert_ledger_sound(tenant.network)


def test_console_maker_checker_blocks_the_builder(tenant, staff):
    profile(tenant)
    earn(tenant, 6000)
    staff.post("/console/payouts/")  # built by the owner
    batch = PayoutBatch.objects.get()
    before = snapshot()

    assert "another owner or admin must approve" in staff.get(f"/console/payouts/{batch.pk}/").content.decode()
    staff.post(f"/console/payouts/{batch.pk}/approve/")

    assert PayoutBatch.objects.get().status == "review" and snapshot() == before


def test_console_removes_a_payout(tenant, staff):
    batch = build(tenant)
    payout = Payout.objects.get()

    staff.post(f"/console/payouts/{batch.pk}/payouts/{payout.pk}/remove/")

    assert Payout.objects.get().status == "removed" and available(tenant) == 6000


def test_bank_file_then_mark_paid(tenant, staff):
    batch = build(tenant, method="bank", details={"account_holder": "Ann Example", "iban": "DE89370400440532013000"})
    payout_services.approve_payout_batch(network=tenant.network, batch_id=batch.pk, actor=tenant.owner)
    payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)
    assert Payout.objects.get().status == "submitted"

    file = staff.get(f"/console/payouts/{batch.pk}/bank-file/")
    staff.post(f"/console/payouts/{batch.pk}/mark-paid/")

    assert file.status_code == 200 and b"DE89370400440532013000" in file.content
    assert Payout.objects.get().status == "paid"
    assert_ledger_sound(tenant.network)


def test_outsiders_get_404_on_console_pages(tenant, other_tenant, client):
    batch = build(tenant)
    client.force_login(other_tenant.owner)
    before = snapshot()

    assert client.get(f"/console/payouts/{batch.pk}/").status_code == 404
    assert client.post(f"/console/payouts/{batch.pk}/approve/").status_code == 404
    client.force_login(tenant.affiliate_user)
    assert client.get("/console/payouts/").status_code == 404
    assert snapshot() == before


def test_portal_payouts_show_hold_reasons_and_history(tenant, portal):
    earn(tenant, 6000)
    body = portal.get("/portal/payouts/").content.decode()
    assert "Payouts on hold" in body and "No payout method" in body

    build(tenant)
    body = portal.get("/portal/payouts/").content.decode()
    assert "Payouts on hold" not in body and "2026-03" in body and "$60.00" in body


def test_portal_payouts_show_only_my_payouts(tenant, client):
    other = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    build(tenant)
    client.force_login(other.user)

    assert "$60.00" not in client.get("/portal/payouts/").content.decode()


def form_data(**change):
    data = {"method": "paypal", "currency": "USD", "threshold": "", "details_email": "ann@example.com",
            "tax_form": "w8ben", "tax_legal_name": "Ann Example", "tax_country": "DE", "tax_tax_id": "DE1",
            "tax_signed_on": "2026-01-02"}
    data.update(change)
    return data


def test_portal_settings_save(tenant, portal):
    response = portal.post("/portal/payouts/settings/", form_data())

    assert response.status_code == 302
    saved = PayoutProfile.objects.get()
    assert (saved.method, saved.details, saved.tax["form"]) == ("paypal", {"email": "ann@example.com"}, "w8ben")
    assert "ann@example.com" in portal.get("/portal/payouts/settings/").content.decode()


def test_portal_settings_name_the_bad_field_and_save_nothing(tenant, portal):
    response = portal.post("/portal/payouts/settings/", form_data(method="bank", details_iban="DE00"))

    assert response.status_code == 400
    assert "details_iban" in response.context["form"].errors
    response = portal.post("/portal/payouts/settings/", form_data(threshold="10.00"))
    assert "threshold" in response.context["form"].errors
    assert PayoutProfile.objects.count() == 0


def test_staff_and_merchants_do_not_reach_the_portal_settings(tenant, client):
    for user in (tenant.owner, tenant.merchant_user):
        client.force_login(user)
        assert client.get("/portal/payouts/settings/").status_code == 404
        assert client.post("/portal/payouts/settings/", form_data()).status_code == 404
    assert PayoutProfile.objects.count() == 0


def test_an_affiliate_of_another_network_saves_only_its_own_profile(tenant, other_tenant, client):
    client.force_login(other_tenant.affiliate_user)
    client.post("/portal/payouts/settings/", form_data())

    assert list(PayoutProfile.objects.values_list("network_id", "affiliate_id")) == [
        (other_tenant.network.pk, other_tenant.affiliate.pk)]


def test_stripe_account_updated_verifies_the_profile_and_stale_events_lose(tenant, client, settings):
    import json

    from payouts.providers.stripe_connect import signed_headers

    settings.STRIPE_API_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_x", "whsec_test"
    profile(tenant, method="stripe", details={"account_id": "acct_1234567890"})

    def send(event_id, created, ready):
        account = {"id": "acct_1234567890", "object": "account", "payouts_enabled": ready,
                   "capabilities": {"transfers": "active" if ready else "inactive"},
                   "requirements": {"currently_due": [] if ready else ["individual.id_number"]}}
        body = json.dumps({"id": event_id, "object": "event", "type": "account.updated", "created": created,
                           "data": {"object": account}})
        return client.post("/integrations/stripe-connect/", body, content_type="application/json",
                           headers=signed_headers(body, "whsec_test"))

    assert send("evt_2", 200, True).status_code == 200
    assert send("evt_1", 100, False).status_code == 200  # older, arrives late

    saved = PayoutProfile.objects.get()
    assert (saved.verification, saved.verification_note) == ("verified", "")
    bad = client.post("/integrations/stripe-connect/", "{}", content_type="application/json",
                      headers={"Stripe-Signature": "t=1,v1=00"})
    assert bad.status_code == 400
