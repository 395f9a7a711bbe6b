"""The webhook endpoints and deliveries API: owners see their own, secrets shown once, SSRF refused."""

import pytest

from network.models import ApiKey
from tests import factories
from tests.webhooks.factories import WebhookDeliveryFactory, WebhookEndpointFactory
from webhooks.models import DeliveryStatus, OwnerKind, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

BODY = {"url": "https://hooks.example.com/in", "event_types": ["conversion.created", "payout.paid"]}


def client_for_other_merchant(tenant):
    from rest_framework.test import APIClient

    membership = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    key = factories.api_key_for(network=tenant.network, user=membership.user, kind=ApiKey.ActorKind.MERCHANT,
                                actor_id=membership.merchant.pk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client, membership.merchant


@pytest.mark.parametrize("kind", ["staff", "merchant", "affiliate"])
def test_each_kind_creates_an_endpoint_and_sees_the_secret_once(tenant, kind):
    client = tenant.client_for(kind)
    response = client.post("/api/v1/webhook-endpoints/", BODY, format="json")
    assert response.status_code == 201, response.content
    endpoint = WebhookEndpoint.objects.get()
    owner_id = {"staff": None, "merchant": tenant.merchant.pk, "affiliate": tenant.affiliate.pk}[kind]
    assert (endpoint.owner_kind, endpoint.owner_id, endpoint.network_id) == (kind, owner_id, tenant.network.pk)
    assert response.json()["secret"] == endpoint.secret
    assert response.json()["event_types"] == ["conversion.created", "payout.paid"]

    listed = client.get("/api/v1/webhook-endpoints/").json()
    assert [row["id"] for row in listed["results"]] == [endpoint.pk]
    assert "secret" not in listed["results"][0]
    assert "secret" not in client.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/").json()


@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1/hook", "not a public internet address"),
    ("http://localhost:8000/hook", "not a public internet address"),
    ("http://10.1.2.3/hook", "not a public internet address"),
    ("http://169.254.169.254/latest/meta-data", "not a public internet address"),
    ("http://[::1]/hook", "not a public internet address"),
    ("http://[fd12::5]/hook", "not a public internet address"),
    ("http://[::ffff:127.0.0.1]/hook", "not a public internet address"),
    ("http://224.0.0.1/hook", "not a public internet address"),
    ("http://240.0.0.1/hook", "not a public internet address"),
    ("http://0.0.0.0/hook", "not a public internet address"),
    ("http://100.64.0.1/hook", "not a public internet address"),
    ("https://intranet.example/hook", "not a public internet address"),
    ("https://metadata.example/hook", "not a public internet address"),
    ("https://mixed.example/hook", "not a public internet address"),
    ("https://v6-internal.example/hook", "not a public internet address"),
    ("https://unresolvable.example/hook", "cannot be resolved"),
    ("ftp://hooks.example.com/in", "Only http:// and https://"),
    ("https://user:pw@hooks.example.com/in", "credentials"),
])
def test_private_and_odd_targets_are_refused_naming_url_and_nothing_is_saved(staff_api, url, message):
    response = staff_api.post("/api/v1/webhook-endpoints/", {**BODY, "url": url}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["url"]
    assert message in error["fields"]["url"][0]
    assert WebhookEndpoint.objects.count() == 0


def test_a_non_url_and_unknown_events_are_refused(staff_api):
    response = staff_api.post("/api/v1/webhook-endpoints/", {"url": "file:///etc/passwd", "event_types": ["x"]},
                              format="json")
    assert response.status_code == 400
    # A bad item of a list is named with its index.
    assert set(response.json()["error"]["fields"]) == {"url", "event_types.0"}
    response = staff_api.post("/api/v1/webhook-endpoints/", {**BODY, "event_types": []}, format="json")
    assert list(response.json()["error"]["fields"]) == ["event_types"]
    assert WebhookEndpoint.objects.count() == 0


def test_patch_rechecks_the_url_and_changes_nothing_when_refused(tenant, staff_api):
    endpoint = WebhookEndpointFactory(network=tenant.network, url="https://hooks.example.com/a")
    response = staff_api.patch(f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"url": "http://10.0.0.1/"},
                               format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["url"]
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.com/a"

    response = staff_api.patch(f"/api/v1/webhook-endpoints/{endpoint.pk}/",
                               {"is_active": False, "event_types": ["payout.failed"]}, format="json")
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.event_types) == (False, ["payout.failed"])


def test_rotate_secret_shows_the_new_secret_once_and_keeps_the_old_one_for_a_day(tenant, staff_api):
    endpoint = WebhookEndpointFactory(network=tenant.network)
    old = endpoint.secret
    response = staff_api.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret/")
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert response.json()["secret"] == endpoint.secret != old
    assert endpoint.previous_secret == old
    assert response.json()["previous_secret_expires_at"] is not None


def test_delete_removes_the_endpoint(tenant, merchant_api):
    endpoint = WebhookEndpointFactory(network=tenant.network, owner_kind=OwnerKind.MERCHANT,
                                      owner_id=tenant.merchant.pk)
    assert merchant_api.delete(f"/api/v1/webhook-endpoints/{endpoint.pk}/").status_code == 204
    assert WebhookEndpoint.objects.count() == 0


def test_deliveries_list_and_redeliver(tenant, merchant_api, django_assert_max_num_queries):
    endpoint = WebhookEndpointFactory(network=tenant.network, owner_kind=OwnerKind.MERCHANT,
                                      owner_id=tenant.merchant.pk)
    deliveries = [WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED, last_status_code=410)
                  for _ in range(3)]
    with django_assert_max_num_queries(8):
        response = merchant_api.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [d.pk for d in reversed(deliveries)]
    assert response.json()["results"][0]["status"] == "failed"

    with django_assert_max_num_queries(8):
        listed = merchant_api.get("/api/v1/webhook-deliveries/?status=failed")
    assert listed.json()["count"] == 3

    response = merchant_api.post(f"/api/v1/webhook-deliveries/{deliveries[0].pk}/redeliver/")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert WebhookDelivery.objects.get(pk=deliveries[0].pk).status == DeliveryStatus.PENDING


def test_endpoint_list_query_count_is_flat(tenant, staff_api, django_assert_max_num_queries):
    for _ in range(5):
        WebhookEndpointFactory(network=tenant.network)
    with django_assert_max_num_queries(6):
        response = staff_api.get("/api/v1/webhook-endpoints/")
    assert response.json()["count"] == 5


def test_outsiders_get_404_on_endpoints_and_deliveries(tenant, other_tenant):
    endpoint = WebhookEndpointFactory(network=tenant.network, owner_kind=OwnerKind.MERCHANT,
                                      owner_id=tenant.merchant.pk)
    delivery = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED)
    other_merchant, _ = client_for_other_merchant(tenant)
    # An affiliate whose id equals the merchant's id must not see the merchant's endpoint either.
    outsiders = [other_merchant, other_tenant.client_for("merchant"), other_tenant.client_for("staff"),
                 tenant.client_for("affiliate"), tenant.client_for("staff")]
    for client in outsiders:
        assert client.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/").status_code == 404
        assert client.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/").status_code == 404
        assert client.patch(f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"is_active": False},
                            format="json").status_code == 404
        assert client.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret/").status_code == 404
        assert client.delete(f"/api/v1/webhook-endpoints/{endpoint.pk}/").status_code == 404
        assert client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/").status_code == 404
        assert client.get(f"/api/v1/webhook-deliveries/{delivery.pk}/").status_code == 404
        assert client.get("/api/v1/webhook-endpoints/").json()["count"] == 0
        assert client.get("/api/v1/webhook-deliveries/").json()["count"] == 0
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert (endpoint.is_active, delivery.status) == (True, DeliveryStatus.FAILED)


def test_a_read_only_key_cannot_create(tenant):
    from rest_framework.test import APIClient

    key = factories.api_key_for(network=tenant.network, user=tenant.owner, kind=ApiKey.ActorKind.STAFF,
                                scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/webhook-endpoints/").status_code == 200
    assert client.post("/api/v1/webhook-endpoints/", BODY, format="json").status_code == 403
    assert WebhookEndpoint.objects.count() == 0

