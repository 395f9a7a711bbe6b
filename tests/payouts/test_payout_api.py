"""API: payout profile, batches, approve (maker-checker), payouts; outsiders see nothing."""

import pytest

from payouts import payout_services
from payouts.models import Payout, PayoutBatch, PayoutProfile
from tests import factories
from tests.payouts.payout_helpers import NOW, TAX, earn, profile, snapshot

pytestmark = pytest.mark.django_db

BODY = {"method": "paypal", "details": {"email": "Ann@Example.com"}, "currency": "usd", "threshold": "75.00",
        "tax": TAX}


def test_affiliate_puts_and_gets_the_payout_profile(tenant, affiliate_api):
    response = affiliate_api.put("/api/v1/payout-profile/", BODY, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["method"], body["details"], body["currency"], body["threshold"]) == (
        "paypal", {"email": "ann@example.com"}, "USD", "75.00")
    assert (body["verification"], body["on_hold"], body["hold_reasons"]) == ("verified", False, [])
    assert affiliate_api.get("/api/v1/payout-profile/").json() == body


def test_an_empty_profile_says_why_payouts_are_on_hold(affiliate_api):
    body = affiliate_api.get("/api/v1/payout-profile/").json()

    assert body["method"] is None and body["on_hold"] is True
    assert body["hold_reasons"] == ["No payout method: add your payout details in Payouts → Settings."]


@pytest.mark.parametrize(("change", "field"), [
    ({"details": {"email": "not-an-email"}}, "details.email"),
    ({"method": "bank", "details": {"iban": "DE00 0000"}}, "details.iban"),
    ({"threshold": "49.99"}, "threshold"),
    ({"threshold": "1.234"}, "threshold"),
    ({"currency": "EURO"}, "currency"),
    ({"tax": {**TAX, "country": "ZZ"}}, "tax.country"),
    ({"tax": {**TAX, "signed_on": "2999-01-01"}}, "tax.signed_on"),
    ({"method": "cash"}, "method"),
])
def test_invalid_profiles_name_the_field_and_save_nothing(tenant, affiliate_api, change, field):
    response = affiliate_api.put("/api/v1/payout-profile/", {**BODY, **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert PayoutProfile.objects.count() == 0


def test_a_merchant_and_staff_get_403_on_the_profile(merchant_api, staff_api):
    assert merchant_api.get("/api/v1/payout-profile/").status_code == 403
    assert merchant_api.put("/api/v1/payout-profile/", BODY, format="json").status_code == 403
    assert staff_api.get("/api/v1/payout-profile/").status_code == 403
    assert PayoutProfile.objects.count() == 0


def test_another_affiliate_does_not_see_my_profile(tenant, affiliate_api):
    affiliate_api.put("/api/v1/payout-profile/", BODY, format="json")
    other = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    key = factories.api_key_for(network=tenant.network, user=other.user, kind="affiliate", actor_id=other.affiliate.pk)
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    assert client.get("/api/v1/payout-profile/").json()["method"] is None


def build(tenant, *, actor=None):
    profile(tenant)
    earn(tenant, 6000)
    return payout_services.build_payout_batch(network=tenant.network, now=NOW, actor=actor).batch


def test_staff_list_batches_with_totals_and_exceptions(tenant, staff_api, django_assert_max_num_queries):
    held = factories.AffiliateFactory(network=tenant.network, name="Held")
    earn(tenant, 9000, affiliate=held)
    batch = build(tenant)
    for month in range(4, 8):  # more batches must not mean more queries
        from datetime import UTC, datetime

        payout_services.build_payout_batch(network=tenant.network, now=datetime(2026, month, 15, tzinfo=UTC))

    with django_assert_max_num_queries(8):
        response = staff_api.get("/api/v1/payout-batches/")

    rows = response.json()["results"]
    assert response.status_code == 200 and len(rows) == 5
    row = next(r for r in rows if r["id"] == batch.pk)
    assert row["totals"] == [{"method": "sandbox", "currency": "USD", "count": 1, "total": "60.00"}]
    assert row["exceptions"] == [{"affiliate": held.pk, "currency": "USD", "amount": "90.00", "reasons": [
        "No payout method: add your payout details in Payouts → Settings."]}]


def test_approve_submits_the_batch(tenant, staff_api, django_capture_on_commit_callbacks):
    batch = build(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(f"/api/v1/payout-batches/{batch.pk}/approve/")

    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert Payout.objects.get().status == Payout.Status.PAID  # the submit task ran after commit
    assert PayoutBatch.objects.get().status == "completed"


def test_maker_checker_refuses_the_builder_and_changes_nothing(tenant, staff_api):
    batch = build(tenant, actor=tenant.owner)
    before = snapshot()

    response = staff_api.post(f"/api/v1/payout-batches/{batch.pk}/approve/")

    assert response.status_code == 403
    assert PayoutBatch.objects.get().status == "review" and snapshot() == before
    second = factories.MembershipFactory(network=tenant.network, role="admin").user
    payout_services.approve_payout_batch(network=tenant.network, batch_id=batch.pk, actor=second)
    assert PayoutBatch.objects.get().status == "approved"


def test_without_maker_checker_the_builder_may_approve(tenant, staff_api):
    tenant.network.require_payout_maker_checker = False
    tenant.network.save()
    batch = build(tenant, actor=tenant.owner)

    assert staff_api.post(f"/api/v1/payout-batches/{batch.pk}/approve/").status_code == 200


def test_a_manager_may_not_approve(tenant):
    batch = build(tenant)
    manager = factories.MembershipFactory(network=tenant.network, role="manager").user
    key = factories.api_key_for(network=tenant.network, user=manager, kind="staff")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    assert client.post(f"/api/v1/payout-batches/{batch.pk}/approve/").status_code == 403
    assert PayoutBatch.objects.get().status == "review"


def test_approving_twice_is_a_400_naming_status(tenant, staff_api):
    batch = build(tenant)
    staff_api.post(f"/api/v1/payout-batches/{batch.pk}/approve/")

    response = staff_api.post(f"/api/v1/payout-batches/{batch.pk}/approve/")

    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]


def test_outsiders_get_404_and_merchants_403_on_batches(tenant, other_tenant, merchant_api):
    batch = build(tenant)
    before = snapshot()

    outsider = other_tenant.client_for("staff")
    assert outsider.get(f"/api/v1/payout-batches/{batch.pk}/").status_code == 404
    assert outsider.post(f"/api/v1/payout-batches/{batch.pk}/approve/").status_code == 404
    assert outsider.get("/api/v1/payout-batches/").json()["results"] == []
    assert merchant_api.get("/api/v1/payout-batches/").status_code == 403
    assert merchant_api.get("/api/v1/payouts/").status_code == 403
    assert merchant_api.post(f"/api/v1/payout-batches/{batch.pk}/approve/").status_code == 403
    assert snapshot() == before and PayoutBatch.objects.get().status == "review"


def test_payouts_staff_see_all_an_affiliate_its_own(tenant, other_tenant, staff_api, affiliate_api,
                                                      django_assert_max_num_queries):
    other = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    profile(tenant, other.affiliate)
    earn(tenant, 7000, affiliate=other.affiliate)
    build(tenant)

    with django_assert_max_num_queries(6):
        staff_rows = staff_api.get("/api/v1/payouts/").json()["results"]
    mine = affiliate_api.get("/api/v1/payouts/").json()["results"]

    assert sorted((r["affiliate"], r["amount"]) for r in staff_rows) == sorted(
        [(tenant.affiliate.pk, "60.00"), (other.affiliate.pk, "70.00")])
    assert [(r["affiliate"], r["amount"], r["currency"], r["method"], r["status"]) for r in mine] == [
        (tenant.affiliate.pk, "60.00", "USD", "sandbox", "created")]
    other_id = next(r["id"] for r in staff_rows if r["affiliate"] == other.affiliate.pk)
    assert affiliate_api.get(f"/api/v1/payouts/{other_id}/").status_code == 404
    assert other_tenant.client_for("affiliate").get("/api/v1/payouts/").json()["results"] == []


def test_staff_remove_a_payout_back_to_the_balance(tenant, staff_api):
    build(tenant)
    payout = Payout.objects.get()

    response = staff_api.post(f"/api/v1/payouts/{payout.pk}/remove/", {"reason": "check the address"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "removed"
    from tests.payouts.payout_helpers import assert_ledger_sound, available

    assert available(tenant) == 6000
    assert_ledger_sound(tenant.network)


def test_an_affiliate_may_not_remove_a_payout(tenant, affiliate_api):
    build(tenant)
    payout = Payout.objects.get()
    before = snapshot()

    assert affiliate_api.post(f"/api/v1/payouts/{payout.pk}/remove/").status_code == 403
    assert snapshot() == before and Payout.objects.get().status == "created"
