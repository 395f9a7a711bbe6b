"""Claims: open (affiliate), accept (creates or re-credits and approves) or reject (merchant), API scoping."""

from datetime import timedelta

import pytest
from django.utils import timezone

from network.models import ApiKey
from payouts.models import LedgerTransaction
from tests import factories
from tests.tracking.factories import link_for
from tests.tracking.lifecycle_helpers import balance_of, conversion_for, snapshot
from tests.tracking.test_lifecycle_api import client_with, second_merchant
from tracking import lifecycle, services
from tracking.models import Conversion, ConversionClaim, ConversionClaimEvent

pytestmark = pytest.mark.django_db


def claim_body(tenant, **overrides):
    body = {"program": tenant.program.pk, "order_id": "MISS-1",
            "order_date": (timezone.now() - timedelta(days=2)).date().isoformat(), "amount": "80.00",
            "currency": "USD", "note": "customer used my link"}
    body.update(overrides)
    return body


def claims_snapshot():
    return (ConversionClaim.objects.count(), ConversionClaimEvent.objects.count(), snapshot())


def test_affiliate_opens_a_claim_and_merchant_accepts_it(tenant, affiliate_api, merchant_api):
    link_for(tenant)  # an approved enrollment
    response = affiliate_api.post("/api/v1/claims/", claim_body(tenant), format="json")
    assert response.status_code == 201, response.content
    claim = response.json()
    assert (claim["status"], claim["amount"], claim["conversion"]) == ("open", "80.00", None)
    listed = merchant_api.get("/api/v1/claims/").json()
    assert [row["id"] for row in listed["results"]] == [claim["id"]]
    accepted = merchant_api.post(f"/api/v1/claims/{claim['id']}/accept/", {"answer": "found it"}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["status"], accepted.json()["answer"]) == ("accepted", "found it")
    conversion = Conversion.objects.get(pk=accepted.json()["conversion"])
    assert (conversion.status, conversion.affiliate_id, conversion.commission_minor, conversion.amount_minor) == (
        "approved", tenant.affiliate.pk, 800, 8000)
    assert LedgerTransaction.objects.filter(idempotency_key=f"conversion:{conversion.pk}:approved").count() == 1
    assert balance_of(tenant).approved_minor == 800
    assert list(ConversionClaimEvent.objects.values_list("from_status", "to_status")) == [
        ("", "open"), ("open", "accepted")]


def test_wrongly_declined_conversion_is_recredited(tenant, affiliate_api, merchant_api):
    conversion = conversion_for(tenant, order_id="WRONG-1")
    lifecycle.reject_conversion(network=tenant.network, conversion_id=conversion.pk, reason_code="duplicate")
    response = affiliate_api.post("/api/v1/claims/", claim_body(tenant, order_id="WRONG-1"), format="json")
    assert response.status_code == 201
    assert response.json()["conversion"] == conversion.pk
    merchant_api.post(f"/api/v1/claims/{response.json()['id']}/accept/", {}, format="json")
    conversion.refresh_from_db()
    assert conversion.status == "approved"


def test_claim_for_a_credited_order_is_refused(tenant, affiliate_api):
    conversion_for(tenant, order_id="HAVE-1")
    before = claims_snapshot()
    response = affiliate_api.post("/api/v1/claims/", claim_body(tenant, order_id="HAVE-1"), format="json")
    assert response.status_code == 400 and "order_id" in response.json()["error"]["fields"]
    assert claims_snapshot() == before


@pytest.mark.parametrize(("field", "value"), [
    ("amount", "abc"), ("amount", "-1.00"), ("currency", "EUR"), ("order_date", "yesterday"),
    ("order_date", "2099-01-01"), ("order_id", ""),
])
def test_claim_validation_names_the_field(tenant, affiliate_api, field, value):
    link_for(tenant)
    before = claims_snapshot()
    response = affiliate_api.post("/api/v1/claims/", claim_body(tenant, **{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert claims_snapshot() == before


def test_second_open_claim_for_the_same_order_is_refused(tenant, affiliate_api):
    link_for(tenant)
    affiliate_api.post("/api/v1/claims/", claim_body(tenant), format="json")
    before = claims_snapshot()
    again = affiliate_api.post("/api/v1/claims/", claim_body(tenant), format="json")
    assert again.status_code == 400 and "order_id" in again.json()["error"]["fields"]
    assert claims_snapshot() == before


def test_reject_needs_reason_and_answer(tenant, affiliate_api, merchant_api):
    link_for(tenant)
    claim = affiliate_api.post("/api/v1/claims/", claim_body(tenant), format="json").json()
    before = claims_snapshot()
    bad = merchant_api.post(f"/api/v1/claims/{claim['id']}/reject/", {"answer": "no"}, format="json")
    assert bad.status_code == 400 and "reason_code" in bad.json()["error"]["fields"]
    assert claims_snapshot() == before
    ok = merchant_api.post(f"/api/v1/claims/{claim['id']}/reject/",
                           {"answer": "order was cancelled", "reason_code": "cancelled"}, format="json")
    assert ok.status_code == 200
    assert (ok.json()["status"], ok.json()["reason_code"]) == ("rejected", "cancelled")
    again = merchant_api.post(f"/api/v1/claims/{claim['id']}/accept/", {}, format="json")
    assert again.status_code == 400 and "status" in again.json()["error"]["fields"]


def test_claims_outsiders(tenant, other_tenant, affiliate_api):
    link_for(tenant)
    claim = affiliate_api.post("/api/v1/claims/", claim_body(tenant), format="json").json()
    other_affiliate = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    other_affiliate_api = client_with(tenant.network, other_affiliate.user, ApiKey.ActorKind.AFFILIATE,
                                      other_affiliate.affiliate.pk)
    before = claims_snapshot()
    for client in (other_tenant.client_for("merchant"), other_tenant.client_for("staff"), second_merchant(tenant)):
        assert client.post(f"/api/v1/claims/{claim['id']}/accept/", {}, format="json").status_code == 404
        assert client.get(f"/api/v1/claims/{claim['id']}/").status_code == 404
    assert other_affiliate_api.get("/api/v1/claims/").json()["results"] == []
    assert affiliate_api.post(f"/api/v1/claims/{claim['id']}/accept/", {}, format="json").status_code == 403
    # An affiliate cannot claim in a program it is not enrolled in, nor in another network's.
    assert other_affiliate_api.post("/api/v1/claims/", claim_body(tenant, order_id="X-2"),
                                    format="json").status_code == 404
    assert affiliate_api.post("/api/v1/claims/", claim_body(tenant, program=other_tenant.program.pk,
                                                            order_id="X-3"), format="json").status_code == 404
    assert claims_snapshot() == before


def test_claim_list_query_count(tenant, affiliate_api, merchant_api, django_assert_max_num_queries):
    link_for(tenant)
    for i in range(5):
        affiliate_api.post("/api/v1/claims/", claim_body(tenant, order_id=f"Q-{i}"), format="json")
    with django_assert_max_num_queries(12):
        response = merchant_api.get("/api/v1/claims/")
    assert response.json()["count"] == 5


def test_claim_cannot_take_another_affiliates_order(tenant):
    from tracking import claims

    other = factories.AffiliateMembershipFactory(affiliate__network=tenant.network).affiliate
    link_for(tenant, affiliate=other)
    conversion_for(tenant, order_id="THEIRS", affiliate=other)
    link_for(tenant)
    with pytest.raises(Exception) as error:
        claims.open_claim(network=tenant.network, affiliate_id=tenant.affiliate.pk, program=tenant.program,
                          order_id="THEIRS", order_date=timezone.now().date(), amount="10.00", currency="USD")
    assert "order_id" in error.value.message_dict
    assert services  # the service module stays importable for the claims path
