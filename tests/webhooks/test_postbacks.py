"""Affiliate postbacks: the API, macro validation, URL-encoded rendering, firing with the retry policy."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from django.db import transaction

from tests.webhooks.factories import AffiliatePostbackFactory
from webhooks import services
from webhooks.models import AffiliatePostback, DeliveryStatus, PostbackDelivery

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TEMPLATE = "https://tracker.example/pb?cid={click_id}&s1={sub1}&oid={order_id}&payout={commission}&cur={currency}"


def test_an_affiliate_registers_a_postback(tenant, affiliate_api):
    response = affiliate_api.post("/api/v1/postbacks/", {"url_template": TEMPLATE,
                                                         "event_types": ["conversion.approved"]}, format="json")
    assert response.status_code == 201, response.content
    postback = AffiliatePostback.objects.get()
    assert (postback.network_id, postback.affiliate_id, postback.program_id) == (
        tenant.network.pk, tenant.affiliate.pk, None)
    assert response.json() == {"id": postback.pk, "program": None, "url_template": TEMPLATE,
                               "event_types": ["conversion.approved"], "is_active": True,
                               "created_at": response.json()["created_at"]}
    assert affiliate_api.get("/api/v1/postbacks/").json()["count"] == 1


@pytest.mark.parametrize(("template", "message"), [
    ("https://tracker.example/pb?x={payout}", "Unknown macros: {payout}"),
    ("https://{sub1}.tracker.example/pb", "not in the host"),
    ("http://10.0.0.9/pb?cid={click_id}", "not a public internet address"),
    ("javascript:alert(1)", "Only http:// and https://"),
])
def test_bad_templates_are_refused_naming_url_template(affiliate_api, template, message):
    response = affiliate_api.post("/api/v1/postbacks/", {"url_template": template,
                                                         "event_types": ["conversion.created"]}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["url_template"]
    assert message in fields["url_template"][0]
    assert AffiliatePostback.objects.count() == 0


def test_payout_events_are_not_postback_events(affiliate_api):
    response = affiliate_api.post("/api/v1/postbacks/", {"url_template": TEMPLATE, "event_types": ["payout.paid"]},
                                  format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["event_types.0"]
    assert AffiliatePostback.objects.count() == 0


def test_postbacks_are_for_affiliates_only_and_scoped(tenant, other_tenant, staff_api, merchant_api):
    postback = AffiliatePostbackFactory(network=tenant.network, affiliate_id=tenant.affiliate.pk)
    assert staff_api.get("/api/v1/postbacks/").status_code == 403
    assert merchant_api.post("/api/v1/postbacks/", {"url_template": TEMPLATE,
                                                    "event_types": ["conversion.created"]},
                             format="json").status_code == 403
    outsider = other_tenant.client_for("affiliate")
    assert outsider.get(f"/api/v1/postbacks/{postback.pk}/").status_code == 404
    assert outsider.patch(f"/api/v1/postbacks/{postback.pk}/", {"is_active": False},
                          format="json").status_code == 404
    assert outsider.delete(f"/api/v1/postbacks/{postback.pk}/").status_code == 404
    assert outsider.get("/api/v1/postbacks/").json()["count"] == 0
    # another affiliate of the same network
    from rest_framework.test import APIClient

    from network.models import ApiKey
    from tests import factories

    membership = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    key = factories.api_key_for(network=tenant.network, user=membership.user, kind=ApiKey.ActorKind.AFFILIATE,
                                actor_id=membership.affiliate.pk)
    neighbour = APIClient()
    neighbour.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert neighbour.get(f"/api/v1/postbacks/{postback.pk}/").status_code == 404
    assert neighbour.get("/api/v1/postbacks/").json()["count"] == 0
    postback.refresh_from_db()
    assert postback.is_active is True
    assert PostbackDelivery.objects.count() == 0


def test_render_url_encodes_every_macro_value():
    url = services.render_postback_url(TEMPLATE, {"click_id": "c 1&x=2", "sub1": "é/?", "order_id": 42,
                                                  "commission": "12.50", "currency": "EUR"})
    assert url == ("https://tracker.example/pb?cid=c%201%26x%3D2&s1=%C3%A9%2F%3F&oid=42&payout=12.50&cur=EUR")


def test_fire_queues_matching_postbacks_in_the_callers_transaction_and_delivers_by_get(
        tenant, other_tenant, allow_private, django_capture_on_commit_callbacks):
    network, affiliate_id = tenant.network, tenant.affiliate.pk
    everywhere = AffiliatePostbackFactory(network=network, affiliate_id=affiliate_id, url_template=TEMPLATE)
    AffiliatePostbackFactory(network=network, affiliate_id=affiliate_id, program_id=tenant.program.pk + 99)
    AffiliatePostbackFactory(network=network, affiliate_id=affiliate_id, event_types=["conversion.reversed"])
    AffiliatePostbackFactory(network=network, affiliate_id=affiliate_id, is_active=False)
    AffiliatePostbackFactory(network=other_tenant.network, affiliate_id=affiliate_id)
    values = {"click_id": "clk_1", "sub1": "fb ads", "order_id": "A-1", "commission": "3.00", "currency": "USD"}
    with respx.mock() as router:
        route = router.get(url__startswith="https://tracker.example/pb").mock(return_value=httpx.Response(200))
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            queued = services.fire_affiliate_postbacks(network=network, affiliate_id=affiliate_id,
                                                       program_id=tenant.program.pk,
                                                       event_type="conversion.created", values=values,
                                                       idempotency_key="conversion:1:created")
        again = services.fire_affiliate_postbacks(network=network, affiliate_id=affiliate_id,
                                                  program_id=tenant.program.pk, event_type="conversion.created",
                                                  values=values, idempotency_key="conversion:1:created")
    assert [delivery.postback_id for delivery in queued] == [everywhere.pk]
    assert again == []
    assert route.call_count == 1
    assert str(route.calls[0].request.url) == (
        "https://tracker.example/pb?cid=clk_1&s1=fb%20ads&oid=A-1&payout=3.00&cur=USD")
    delivery = PostbackDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)


def test_postbacks_retry_5xx_with_the_same_backoff_and_never_4xx(tenant, allow_private):
    network, affiliate_id = tenant.network, tenant.affiliate.pk
    AffiliatePostbackFactory(network=network, affiliate_id=affiliate_id, url_template="https://a.example/pb")
    AffiliatePostbackFactory(network=network, affiliate_id=affiliate_id, url_template="https://b.example/pb")
    services.fire_affiliate_postbacks(network=network, affiliate_id=affiliate_id, program_id=None,
                                      event_type="conversion.approved", values={})
    PostbackDelivery.objects.update(next_attempt_at=NOW)
    with respx.mock() as router:
        a = router.get("https://a.example/pb").mock(return_value=httpx.Response(500))
        b = router.get("https://b.example/pb").mock(return_value=httpx.Response(400))
        assert services.dispatch_due_deliveries(now=NOW) == 2
        assert services.dispatch_due_deliveries(now=NOW + timedelta(seconds=59)) == 0
        assert services.dispatch_due_deliveries(now=NOW + timedelta(seconds=60)) == 1
    assert (a.call_count, b.call_count) == (2, 1)
    statuses = dict(PostbackDelivery.objects.values_list("url", "status"))
    assert statuses == {"https://a.example/pb": DeliveryStatus.PENDING, "https://b.example/pb": DeliveryStatus.FAILED}
    assert PostbackDelivery.objects.get(url="https://a.example/pb").next_attempt_at == NOW + timedelta(seconds=300)
