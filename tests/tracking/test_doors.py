"""The four doors: REST API, GET postback, pixel/tracker.js, Stripe webhooks; and who may use them."""

import json
import time
from datetime import timedelta

import pytest
import stripe
from django.test import Client
from django.utils import timezone

from merchants.models import Program
from network.models import ApiKey
from tests import factories
from tests.tracking.factories import WEBHOOK_SECRET, click_for, link_for, stripe_integration_for
from tracking.models import Conversion, Customer, ReversalRequest, StripeEvent

pytestmark = pytest.mark.django_db


def body(tenant, **overrides):
    data = {"program": tenant.program.pk, "order_id": "ORD-1", "action": "sale", "amount": "49.90",
            "currency": "USD"}
    data.update(overrides)
    return data


def test_api_post_201_then_200_same_body(tenant, merchant_api):
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    first = merchant_api.post("/api/v1/conversions/", body(tenant, click_id=click.click_id), format="json")
    assert first.status_code == 201
    data = first.json()
    assert (data["status"], data["order_id"], data["amount"], data["currency"], data["commission"]) == (
        "pending", "ORD-1", "49.90", "USD", "4.99")
    assert data["click_id"] == click.click_id
    assert data["explanation"]["attribution"]["method"] == "click_id"
    again = merchant_api.post("/api/v1/conversions/", body(tenant, click_id=click.click_id), format="json")
    assert again.status_code == 200
    assert again.json() == data
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize(("field", "overrides"), [
    ("amount", {"amount": "12.345"}), ("currency", {"currency": "EUR"}), ("order_id", {"order_id": ""}),
    ("action", {"action": "nope"}), ("program", {"program": "x"}),
])
def test_api_validation_names_the_field(tenant, merchant_api, field, overrides):
    response = merchant_api.post("/api/v1/conversions/", body(tenant, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Conversion.objects.count() == 0


def test_api_future_occurred_at_is_refused(tenant, merchant_api):
    future = (timezone.now() + timedelta(minutes=10)).isoformat()
    response = merchant_api.post("/api/v1/conversions/", body(tenant, occurred_at=future), format="json")
    assert response.status_code == 400
    assert "occurred_at" in response.json()["error"]["fields"]
    assert Conversion.objects.count() == 0


def test_api_outsiders(tenant, other_tenant, affiliate_api):
    # Another network's merchant, for our program: 404.
    response = other_tenant.client_for("merchant").post("/api/v1/conversions/", body(tenant), format="json")
    assert response.status_code == 404
    # Another merchant of the same network: 404.
    membership = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    key = factories.api_key_for(network=tenant.network, user=membership.user, kind=ApiKey.ActorKind.MERCHANT,
                                actor_id=membership.merchant.pk)
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.post("/api/v1/conversions/", body(tenant), format="json").status_code == 404
    # An affiliate may not report conversions.
    assert affiliate_api.post("/api/v1/conversions/", body(tenant), format="json").status_code == 403
    assert Conversion.objects.count() == 0


def test_api_staff_may_post(tenant, staff_api):
    assert staff_api.post("/api/v1/conversions/", body(tenant), format="json").status_code == 201


def _make_conversions(tenant, count, **overrides):
    now = timezone.now()
    from tracking import services

    click = click_for(link_for(tenant), created_at=now - timedelta(days=2))
    for i in range(count):
        services.record_conversion(program=tenant.program, order_id=f"L-{i}", amount="10.00", currency="USD",
                                   source="api", click_id=click.click_id, occurred_at=now - timedelta(days=i),
                                   now=now, **overrides)


def test_api_list_scoping_filters_pagination_and_queries(tenant, other_tenant, merchant_api, affiliate_api,
                                                         staff_api, django_assert_max_num_queries):
    _make_conversions(tenant, 5)
    _make_conversions(other_tenant, 2)
    with django_assert_max_num_queries(8):
        response = merchant_api.get("/api/v1/conversions/?page_size=2")
    data = response.json()
    assert (data["count"], len(data["results"])) == (5, 2)
    assert data["results"][0]["order_id"] == "L-0"
    assert affiliate_api.get("/api/v1/conversions/").json()["count"] == 5
    assert staff_api.get("/api/v1/conversions/").json()["count"] == 5
    assert other_tenant.client_for("merchant").get("/api/v1/conversions/").json()["count"] == 2
    day = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert merchant_api.get(f"/api/v1/conversions/?date_from={day}").json()["count"] == 2
    # Orders dated at or before the click (days 2-4) are too fast to be real: held.
    assert merchant_api.get("/api/v1/conversions/?status=hold").json()["count"] == 3
    assert merchant_api.get("/api/v1/conversions/?status=pending").json()["count"] == 2
    assert merchant_api.get(f"/api/v1/conversions/?program={tenant.program.pk}").json()["count"] == 5
    with django_assert_max_num_queries(8):
        merchant_api.get("/api/v1/conversions/?page_size=50")
    foreign = Conversion.objects.filter(network=other_tenant.network).first()
    assert merchant_api.get(f"/api/v1/conversions/{foreign.pk}/").status_code == 404


def test_api_other_affiliate_of_same_network_sees_nothing(tenant):
    _make_conversions(tenant, 2)
    membership = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    key = factories.api_key_for(network=tenant.network, user=membership.user, kind=ApiKey.ActorKind.AFFILIATE,
                                actor_id=membership.affiliate.pk)
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/conversions/").json()["count"] == 0
    mine = Conversion.objects.first()
    assert client.get(f"/api/v1/conversions/{mine.pk}/").status_code == 404


# --- GET postback -------------------------------------------------------------------------------

def test_postback_records_once(tenant):
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    url = (f"/t/postback?token={tenant.program.postback_token}&click_id={click.click_id}&order_id=P-1"
           f"&amount=20.00&currency=USD&action=sale")
    first = Client().get(url)
    assert first.status_code == 200
    assert first.json()["result"] == "created"
    assert Client().get(url).json()["result"] == "exists"
    conversion = Conversion.objects.get()
    assert (conversion.source, conversion.commission_minor, conversion.affiliate_id) == (
        "postback", 200, tenant.affiliate.pk)


def test_postback_bad_token_403_and_nothing_stored(tenant):
    response = Client().get("/t/postback?token=wrong&order_id=1&amount=1.00&currency=USD")
    assert response.status_code == 403
    assert Client().get("/t/postback?order_id=1&amount=1.00").status_code == 403
    assert Conversion.objects.count() == 0


def test_postback_validation_and_unfilled_macros(tenant):
    token = tenant.program.postback_token
    response = Client().get(f"/t/postback?token={token}&order_id=P&amount={{amount}}&currency=USD")
    assert response.status_code == 400
    assert "amount" in response.json()["error"]["fields"]
    ok = Client().get(f"/t/postback?token={token}&order_id=P&amount=5.00&click_id={{click_id}}")
    assert ok.status_code == 200
    assert Conversion.objects.get().attribution == "none"


# --- tracker.js and the pixel -------------------------------------------------------------------

def test_tracker_js_headers():
    response = Client().get("/t/tracker.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert b"sendBeacon" in response.content and b"/t/pixel.gif" in response.content


def test_pixel_beacon_records_with_a_valid_click(tenant):
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    response = Client().post("/t/pixel.gif", {"program": tenant.program.pk, "click_id": click.click_id,
                                              "order_id": "PX-1", "amount": "30.00", "currency": "USD"})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["X-Conversion"] == "created"
    conversion = Conversion.objects.get()
    assert (conversion.source, conversion.affiliate_id, conversion.commission_minor) == (
        "pixel", tenant.affiliate.pk, 300)


def test_pixel_get_uses_the_tracking_cookie(tenant):
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    client = Client()
    client.cookies[f"aff_{tenant.program.pk}"] = click.click_id
    response = client.get(f"/t/pixel.gif?program={tenant.program.pk}&order_id=PX-2&amount=1.00")
    assert response["X-Conversion"] == "created"


def test_pixel_refuses_without_a_click_of_the_program(tenant, other_tenant):
    foreign = click_for(link_for(other_tenant), created_at=timezone.now() - timedelta(hours=1))
    for params in ({"program": tenant.program.pk, "order_id": "X", "amount": "1.00"},
                   {"program": tenant.program.pk, "click_id": foreign.click_id, "order_id": "X", "amount": "1.00"},
                   {"program": "999999", "click_id": foreign.click_id, "order_id": "X", "amount": "1.00"}):
        response = Client().get("/t/pixel.gif", params)
        assert response.status_code == 200
        assert response["X-Conversion"].startswith("refused")
    assert Conversion.objects.count() == 0


def test_pixel_validation_refused(tenant):
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    response = Client().get("/t/pixel.gif", {"program": tenant.program.pk, "click_id": click.click_id,
                                             "order_id": "X", "amount": "lots"})
    assert response["X-Conversion"] == "refused:amount"
    assert Conversion.objects.count() == 0


# --- Stripe -------------------------------------------------------------------------------------

def stripe_post(integration, event: dict, secret: str = WEBHOOK_SECRET):
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=int(time.time()))
    return Client().post(f"/integrations/stripe/{integration.token}/", payload, content_type="application/json",
                         HTTP_STRIPE_SIGNATURE=header)


def stripe_event(event_id: str, event_type: str, obj: dict) -> dict:
    return {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()) - 5,
            "data": {"object": obj}}


def checkout(click_id: str, customer: str = "cus_A") -> dict:
    return {"id": "cs_1", "object": "checkout.session", "client_reference_id": click_id, "customer": customer,
            "amount_total": 5000, "currency": "usd", "payment_intent": "pi_1", "metadata": {},
            "customer_details": {"email": "buyer@example.org"}}


def test_stripe_checkout_invoice_refund_flow(tenant):
    from merchants.models import CommissionRule

    CommissionRule.objects.filter(program=tenant.program).update(recurring=CommissionRule.Recurring.MONTHS,
                                                                 recurring_months=2)
    integration = stripe_integration_for(tenant.program)
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    response = stripe_post(integration, stripe_event("evt_1", "checkout.session.completed", checkout(click.click_id)))
    assert response.status_code == 200
    assert response.json()["outcome"] == "sale recorded"
    sale = Conversion.objects.get()
    assert (sale.source, sale.order_id, sale.amount_minor, sale.commission_minor, sale.affiliate_id) == (
        "stripe", "cs_1", 5000, 500, tenant.affiliate.pk)
    assert Customer.objects.get().external_id == "cus_A"
    # A replayed event changes nothing.
    assert stripe_post(integration, stripe_event("evt_1", "checkout.session.completed",
                                                 checkout(click.click_id))).json()["outcome"] == "sale recorded"
    assert StripeEvent.objects.count() == 1
    # The first subscription invoice was the checkout; the next ones are recurring.
    invoice = {"id": "in_0", "object": "invoice", "customer": "cus_A", "amount_paid": 5000, "currency": "usd",
               "billing_reason": "subscription_create"}
    assert stripe_post(integration, stripe_event("evt_2", "invoice.paid", invoice)).json()["outcome"] == (
        "first invoice already credited by checkout")
    for n, event_id in ((1, "evt_3"), (2, "evt_4")):
        renewal = {**invoice, "id": f"in_{n}", "billing_reason": "subscription_cycle", "payment_intent": f"pi_in{n}"}
        stripe_post(integration, stripe_event(event_id, "invoice.paid", renewal))
    recurring = Conversion.objects.filter(recurring_index__gt=0).order_by("recurring_index")
    assert [(c.order_id, c.recurring_index, c.commission_minor, c.attribution) for c in recurring] == [
        ("in_1", 1, 500, "customer")]
    assert StripeEvent.objects.get(event_id="evt_4").outcome == (
        "the program pays no recurring commission for this payment")
    refund = {"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "amount_refunded": 5000,
              "customer": "cus_A"}
    assert stripe_post(integration, stripe_event("evt_5", "charge.refunded", refund)).json()["outcome"] == (
        "reversal requested")
    request = ReversalRequest.objects.get()
    assert (request.conversion_id, request.amount_minor, request.status) == (sale.pk, 5000, "open")
    assert sale.events.filter(kind="reversal_requested").count() == 1


def test_stripe_bad_signature_400_and_nothing_stored(tenant):
    integration = stripe_integration_for(tenant.program)
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    response = stripe_post(integration, stripe_event("evt_x", "checkout.session.completed",
                                                     checkout(click.click_id)), secret="whsec_wrong")
    assert response.status_code == 400
    assert Client().post(f"/integrations/stripe/{integration.token}/", "{}",
                         content_type="application/json").status_code == 400
    assert (Conversion.objects.count(), StripeEvent.objects.count()) == (0, 0)


def test_stripe_unknown_token_404(tenant):
    assert Client().post("/integrations/stripe/nope/", "{}", content_type="application/json").status_code == 404


def test_stripe_metadata_click_and_unbound_invoice(tenant):
    integration = stripe_integration_for(tenant.program)
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    session = {**checkout(""), "client_reference_id": None, "metadata": {"aff_click": click.click_id}}
    stripe_post(integration, stripe_event("evt_m", "checkout.session.completed", session))
    assert Conversion.objects.get().attribution == "click_id"
    invoice = {"id": "in_9", "object": "invoice", "customer": "cus_unknown", "amount_paid": 100, "currency": "usd"}
    assert stripe_post(integration, stripe_event("evt_i", "invoice.paid", invoice)).json()["outcome"] == (
        "customer not bound to an affiliate")


def test_program_paused_still_accepts_conversions_for_past_clicks(tenant, merchant_api):
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    Program.objects.filter(pk=tenant.program.pk).update(status=Program.Status.PAUSED)
    response = merchant_api.post("/api/v1/conversions/", body(tenant, click_id=click.click_id), format="json")
    assert response.status_code == 201
