"""/merchant/review/ (queue, htmx bulk decisions, CSV decline, claim answers) and /portal/claims/: content and scoping."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.tracking.factories import link_for
from tests.tracking.lifecycle_helpers import conversion_for, snapshot
from tracking import claims, lifecycle
from tracking.models import Conversion, ConversionClaim

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def host(tenant) -> dict:
    return {"HTTP_HOST": f"{tenant.network.slug}.localhost"}


def open_claim(tenant, order_id="CL-1"):
    link_for(tenant)
    return claims.open_claim(network=tenant.network, affiliate_id=tenant.affiliate.pk, program=tenant.program,
                             order_id=order_id, order_date=timezone.now().date() - timedelta(days=1),
                             amount="40.00", currency="USD", note="bought on Monday")


def test_review_page_lists_pending_held_and_claims(tenant, other_tenant, django_assert_max_num_queries):
    pending = conversion_for(tenant, order_id="REV-1")
    held = conversion_for(tenant, order_id="REV-2")
    lifecycle.hold_conversion(network=tenant.network, conversion_id=held.pk, reason_code="fraud")
    approved = conversion_for(tenant, order_id="REV-3")
    lifecycle.approve_conversion(network=tenant.network, conversion_id=approved.pk)
    conversion_for(other_tenant, order_id="FOREIGN-1")
    open_claim(tenant)
    client = logged_in(tenant.merchant_user)
    client.get("/merchant/review/", **host(tenant))
    with django_assert_max_num_queries(18):
        response = client.get("/merchant/review/", **host(tenant))
    assert response.status_code == 200
    html = response.content.decode()
    assert "REV-1" in html and "REV-2" in html and "REV-3" not in html and "FOREIGN-1" not in html
    assert html.index("REV-2") < html.index("REV-1")  # held first
    assert "CL-1" in html and "bought on Monday" in html
    assert pending.pk


def test_review_empty_state(tenant):
    response = logged_in(tenant.merchant_user).get("/merchant/review/", **host(tenant))
    assert "Nothing to review" in response.content.decode()


def test_htmx_bulk_decline(tenant):
    conversions = [conversion_for(tenant, order_id=f"H-{i}") for i in range(2)]
    response = logged_in(tenant.merchant_user).post(
        "/merchant/review/", {"ids": [c.pk for c in conversions], "action": "reject", "reason_code": "cancelled"},
        HTTP_HX_REQUEST="true", **host(tenant))
    assert response.status_code == 200
    assert "2 of 2 conversions updated." in response.content.decode()
    assert set(Conversion.objects.values_list("status", flat=True)) == {"rejected"}


def test_single_approve_without_htmx_redirects(tenant):
    conversion = conversion_for(tenant, order_id="S-1")
    response = logged_in(tenant.merchant_user).post(
        "/merchant/review/", {"ids": str(conversion.pk), "action": "approve"}, **host(tenant))
    assert response.status_code == 302
    conversion.refresh_from_db()
    assert conversion.status == "approved"


def test_bulk_decline_without_reason_code_is_400_and_changes_nothing(tenant):
    conversion = conversion_for(tenant, order_id="N-1")
    before = snapshot()
    response = logged_in(tenant.merchant_user).post(
        "/merchant/review/", {"ids": str(conversion.pk), "action": "reject"}, HTTP_HX_REQUEST="true", **host(tenant))
    assert response.status_code == 400
    assert "reason code" in response.content.decode()
    assert snapshot() == before


def test_review_outsiders(tenant, other_tenant):
    conversion = conversion_for(tenant, order_id="O-1")
    claim = open_claim(tenant)
    other_merchant = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    analyst = factories.MerchantMembershipFactory(merchant=tenant.merchant, role="analyst")
    before = snapshot(), ConversionClaim.objects.values_list("status", flat=True).get()
    # Another network's merchant: nothing here at all.
    foreign = logged_in(other_tenant.merchant_user)
    assert foreign.get("/merchant/review/", **host(tenant)).status_code == 404
    # Another merchant of the same network: own (empty) queue; posting our ids changes nothing.
    same_network = logged_in(other_merchant.user)
    page = same_network.get("/merchant/review/", **host(tenant))
    assert page.status_code == 200 and "O-1" not in page.content.decode() and "CL-1" not in page.content.decode()
    same_network.post("/merchant/review/", {"ids": str(conversion.pk), "action": "approve"}, **host(tenant))
    assert same_network.post(f"/merchant/review/claims/{claim.pk}/", {"decision": "accept"},
                             **host(tenant)).status_code == 404
    # The merchant's analyst reads but cannot decide.
    reader = logged_in(analyst.user)
    assert reader.get("/merchant/review/", **host(tenant)).status_code == 200
    assert reader.post("/merchant/review/", {"ids": str(conversion.pk), "action": "approve"},
                       **host(tenant)).status_code == 404
    # An affiliate is not a merchant.
    assert logged_in(tenant.affiliate_user).get("/merchant/review/", **host(tenant)).status_code == 404
    assert (snapshot(), ConversionClaim.objects.values_list("status", flat=True).get()) == before


def test_decline_csv_page_reports_rows(tenant):
    conversion_for(tenant, order_id="CSV-1")
    upload = SimpleUploadedFile("d.csv", b"order_id,reason_code\nCSV-1,returned\nCSV-9,\n", content_type="text/csv")
    response = logged_in(tenant.merchant_user).post("/merchant/review/decline-csv/", {"file": upload},
                                                    **host(tenant))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 of 2 rows declined." in html and "No conversion with this order id." in html
    assert Conversion.objects.get(order_id="CSV-1").reason_code == "returned"


def test_decline_csv_page_without_file_is_400(tenant):
    conversion_for(tenant, order_id="CSV-2")
    before = snapshot()
    response = logged_in(tenant.merchant_user).post("/merchant/review/decline-csv/", {}, **host(tenant))
    assert response.status_code == 400
    assert snapshot() == before


def test_merchant_answers_a_claim_on_the_page(tenant):
    claim = open_claim(tenant)
    client = logged_in(tenant.merchant_user)
    bad = client.post(f"/merchant/review/claims/{claim.pk}/", {"decision": "reject", "answer": "no"}, **host(tenant))
    assert bad.status_code == 400
    response = client.post(f"/merchant/review/claims/{claim.pk}/", {"decision": "accept", "answer": "ok"},
                           **host(tenant))
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.conversion.status) == ("accepted", "approved")


def test_portal_claims_page_opens_and_lists(tenant, other_tenant, django_assert_max_num_queries):
    link_for(tenant)
    client = logged_in(tenant.affiliate_user)
    day = (timezone.now() - timedelta(days=1)).date().isoformat()
    response = client.post("/portal/claims/", {"program": tenant.program.pk, "order_id": "P-77", "order_date": day,
                                               "amount": "19.99", "note": "n"}, **host(tenant))
    assert response.status_code == 302
    with django_assert_max_num_queries(14):
        page = client.get("/portal/claims/", **host(tenant))
    html = page.content.decode()
    assert "P-77" in html and "$19.99" in html
    assert logged_in(other_tenant.affiliate_user).get("/portal/claims/", **host(tenant)).status_code == 404
    other = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    assert "P-77" not in logged_in(other.user).get("/portal/claims/", **host(tenant)).content.decode()


def test_portal_claim_validation_is_400_and_stores_nothing(tenant, other_tenant):
    link_for(tenant)
    client = logged_in(tenant.affiliate_user)
    for body in ({"program": tenant.program.pk, "order_id": "P-1", "order_date": "soon", "amount": "1.00"},
                 {"program": other_tenant.program.pk, "order_id": "P-1", "order_date": "2026-01-01", "amount": "1"}):
        response = client.post("/portal/claims/", body, **host(tenant))
        assert response.status_code == 400
    assert ConversionClaim.objects.count() == 0


def test_portal_conversions_show_reason_code_and_claim_link(tenant):
    conversion = conversion_for(tenant, order_id="PC-1")
    lifecycle.reject_conversion(network=tenant.network, conversion_id=conversion.pk, reason_code="duplicate",
                                reason="same order twice")
    html = logged_in(tenant.affiliate_user).get("/portal/conversions/", **host(tenant)).content.decode()
    assert "Duplicate order" in html and "same order twice" in html and "/portal/claims/?program=" in html
