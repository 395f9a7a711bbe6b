"""POST /api/v1/conversions/{id}/approve|reject|hold|release|reverse/, /bulk/, /decline-csv/: who, what, refusals."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from network.models import ApiKey
from tests import factories
from tests.tracking.lifecycle_helpers import conversion_for, entries_by_key, snapshot
from tracking import lifecycle
from tracking.models import Conversion, ConversionEvent

pytestmark = pytest.mark.django_db


def client_with(network, user, kind, actor_id=None) -> APIClient:
    client = APIClient()
    key = factories.api_key_for(network=network, user=user, kind=kind, actor_id=actor_id)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def second_merchant(tenant):
    membership = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    return client_with(tenant.network, membership.user, ApiKey.ActorKind.MERCHANT, membership.merchant.pk)


def test_merchant_approves_own_conversion(tenant, merchant_api):
    conversion = conversion_for(tenant)
    response = merchant_api.post(f"/api/v1/conversions/{conversion.pk}/approve/", {"reason": "ok"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["commission"], body["reason_code"], body["reversed_amount"]) == (
        "approved", "10.00", "", "0.00")
    assert list(entries_by_key(tenant.network)) == [f"conversion:{conversion.pk}:approved"]


def test_staff_rejects_with_reason_code(tenant, staff_api):
    conversion = conversion_for(tenant)
    response = staff_api.post(f"/api/v1/conversions/{conversion.pk}/reject/",
                              {"reason": "QA", "reason_code": "test_order"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason_code"]) == ("rejected", "test_order")
    event = ConversionEvent.objects.get(conversion=conversion, kind="transition")
    assert (event.actor, event.reason_code) == (tenant.owner, "test_order")


def test_reject_without_reason_code_is_400_and_changes_nothing(tenant, merchant_api):
    conversion = conversion_for(tenant)
    before = snapshot()
    response = merchant_api.post(f"/api/v1/conversions/{conversion.pk}/reject/", {"reason": "?"}, format="json")
    assert response.status_code == 400
    assert "reason_code" in response.json()["error"]["fields"]
    bad = merchant_api.post(f"/api/v1/conversions/{conversion.pk}/reject/", {"reason_code": "bogus"}, format="json")
    assert bad.status_code == 400 and "reason_code" in bad.json()["error"]["fields"]
    assert snapshot() == before


def test_partial_reverse_with_amount(tenant, merchant_api):
    conversion = conversion_for(tenant)
    merchant_api.post(f"/api/v1/conversions/{conversion.pk}/approve/", {}, format="json")
    response = merchant_api.post(f"/api/v1/conversions/{conversion.pk}/reverse/",
                                 {"reason": "one item back", "amount": "25.00"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["reversed_amount"], body["reversed_commission"], body["reason_code"]) == (
        "approved", "25.00", "2.50", "returned")
    assert entries_by_key(tenant.network)[f"conversion:{conversion.pk}:reversal:1"] == [
        ("affiliate_payable", 250), ("merchant_balance", -300), ("network_revenue", 50)]


@pytest.mark.parametrize("amount", ["abc", "0.00", "-1.00", "100.01", "1.001"])
def test_reverse_bad_amount_is_400_naming_amount(tenant, merchant_api, amount):
    conversion = conversion_for(tenant)
    merchant_api.post(f"/api/v1/conversions/{conversion.pk}/approve/", {}, format="json")
    before = snapshot()
    response = merchant_api.post(f"/api/v1/conversions/{conversion.pk}/reverse/", {"amount": amount}, format="json")
    assert response.status_code == 400
    assert "amount" in response.json()["error"]["fields"]
    assert snapshot() == before


def test_reverse_pending_is_400(tenant, merchant_api):
    conversion = conversion_for(tenant)
    before = snapshot()
    response = merchant_api.post(f"/api/v1/conversions/{conversion.pk}/reverse/", {}, format="json")
    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]
    assert snapshot() == before


@pytest.mark.parametrize("path", ["approve", "reject", "hold", "release", "reverse"])
def test_outsiders_get_404_and_nothing_changes(tenant, other_tenant, path):
    conversion = conversion_for(tenant)
    before = snapshot()
    for client in (other_tenant.client_for("staff"), other_tenant.client_for("merchant"), second_merchant(tenant)):
        response = client.post(f"/api/v1/conversions/{conversion.pk}/{path}/", {"reason_code": "other"},
                               format="json")
        assert response.status_code == 404, (path, response.content)
    assert snapshot() == before


@pytest.mark.parametrize("path", ["approve", "reject", "reverse"])
def test_affiliate_and_analyst_get_403(tenant, affiliate_api, path):
    conversion = conversion_for(tenant)
    analyst = factories.MerchantMembershipFactory(merchant=tenant.merchant, role="analyst")
    analyst_api = client_with(tenant.network, analyst.user, ApiKey.ActorKind.MERCHANT, tenant.merchant.pk)
    before = snapshot()
    for client in (affiliate_api, analyst_api):
        response = client.post(f"/api/v1/conversions/{conversion.pk}/{path}/", {"reason_code": "other"},
                               format="json")
        assert response.status_code == 403, response.content
    assert snapshot() == before


def test_bulk_reports_per_id_and_hides_foreign_ids(tenant, other_tenant, merchant_api):
    mine = [conversion_for(tenant, order_id=f"B-{i}") for i in range(3)]
    foreign = conversion_for(other_tenant, order_id="F-1")
    lifecycle.reject_conversion(network=tenant.network, conversion_id=mine[2].pk, reason_code="fraud")
    response = merchant_api.post("/api/v1/conversions/bulk/", {
        "ids": [mine[0].pk, mine[1].pk, mine[2].pk, foreign.pk], "action": "reject", "reason_code": "cancelled",
        "reason": "order cancelled"}, format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["result"] for r in results] == ["rejected", "rejected", "rejected", "error"]
    assert results[3]["message"] == "No such conversion."
    assert Conversion.objects.get(pk=foreign.pk).status == "pending"
    assert response.json()["counts"] == {"rejected": 3, "error": 1}


def test_bulk_approve_and_validation(tenant, merchant_api, django_assert_max_num_queries):
    conversions = [conversion_for(tenant, order_id=f"BA-{i}") for i in range(2)]
    before = snapshot()
    bad = merchant_api.post("/api/v1/conversions/bulk/", {"ids": [], "action": "approve"}, format="json")
    assert bad.status_code == 400 and "ids" in bad.json()["error"]["fields"]
    bad = merchant_api.post("/api/v1/conversions/bulk/", {"ids": [conversions[0].pk], "action": "explode"},
                            format="json")
    assert bad.status_code == 400 and "action" in bad.json()["error"]["fields"]
    bad = merchant_api.post("/api/v1/conversions/bulk/", {"ids": [conversions[0].pk], "action": "reject"},
                            format="json")
    assert bad.status_code == 400 and "reason_code" in bad.json()["error"]["fields"]
    assert snapshot() == before
    response = merchant_api.post("/api/v1/conversions/bulk/", {"ids": [c.pk for c in conversions],
                                                               "action": "approve"}, format="json")
    assert [r["result"] for r in response.json()["results"]] == ["approved", "approved"]


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("declines.csv", content, content_type="text/csv")


def test_decline_csv_per_row(tenant, other_tenant, merchant_api):
    pending = conversion_for(tenant, order_id="C-1")
    approved = conversion_for(tenant, order_id="C-2")
    lifecycle.approve_conversion(network=tenant.network, conversion_id=approved.pk)
    conversion_for(other_tenant, order_id="C-3")
    content = b"order_id,reason_code,reason\nC-1,returned,parcel back\nC-2,,\nC-3,,\nC-4,,\nC-1,bogus,\n"
    response = merchant_api.post("/api/v1/conversions/decline-csv/", {"file": upload(content)}, format="multipart")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["row"], r["order_id"], r["result"]) for r in results] == [
        (2, "C-1", "rejected"), (3, "C-2", "error"), (4, "C-3", "error"), (5, "C-4", "error"), (6, "C-1", "error")]
    assert results[1]["message"].startswith("The conversion is approved")
    assert results[2]["message"] == results[3]["message"] == "No conversion with this order id."
    pending.refresh_from_db()
    assert (pending.status, pending.reason_code, pending.status_reason) == ("rejected", "returned", "parcel back")
    assert Conversion.objects.get(order_id="C-3").status == "pending"


def test_decline_csv_all_or_nothing_rolls_back(tenant, merchant_api):
    conversion_for(tenant, order_id="D-1")
    before = snapshot()
    response = merchant_api.post("/api/v1/conversions/decline-csv/", {
        "file": upload(b"order_id\nD-1\nD-404\n"), "all_or_nothing": "true"}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert "file" in body["error"]["fields"]
    assert [r["result"] for r in body["results"]] == ["not_applied", "error"]
    assert snapshot() == before


@pytest.mark.parametrize("content", [b"", b"id\n1\n", b"order_id\n", b"\xff\xfe\x00"])
def test_decline_csv_bad_file_is_400(tenant, merchant_api, content):
    conversion_for(tenant, order_id="E-1")
    before = snapshot()
    response = merchant_api.post("/api/v1/conversions/decline-csv/", {"file": upload(content)}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]
    assert snapshot() == before


def test_decline_csv_outsiders(tenant, other_tenant, affiliate_api):
    conversion_for(tenant, order_id="G-1")
    before = snapshot()
    other = other_tenant.client_for("merchant").post("/api/v1/conversions/decline-csv/",
                                                     {"file": upload(b"order_id\nG-1\n")}, format="multipart")
    assert other.status_code == 200
    assert [r["result"] for r in other.json()["results"]] == ["error"]
    same_network = second_merchant(tenant).post("/api/v1/conversions/decline-csv/",
                                                {"file": upload(b"order_id\nG-1\n")}, format="multipart")
    assert [r["result"] for r in same_network.json()["results"]] == ["error"]
    assert affiliate_api.post("/api/v1/conversions/decline-csv/", {"file": upload(b"order_id\nG-1\n")},
                              format="multipart").status_code == 403
    assert snapshot() == before
