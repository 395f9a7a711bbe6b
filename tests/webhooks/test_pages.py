"""The delivery log pages (three areas, one view), htmx redeliver, and the postbacks page."""

import pytest
from django.test import Client

from tests import factories
from tests.webhooks.factories import AffiliatePostbackFactory, WebhookDeliveryFactory, WebhookEndpointFactory
from webhooks.models import AffiliatePostback, DeliveryStatus, OwnerKind, WebhookEndpoint

pytestmark = pytest.mark.django_db

AREAS = {"staff": "/console/", "merchant": "/merchant/", "affiliate": "/portal/"}


def browser(tenant, user) -> Client:
    client = Client(HTTP_HOST=f"{tenant.network.slug}.localhost")
    client.force_login(user)
    return client


def user_for(tenant, kind):
    return {"staff": tenant.owner, "merchant": tenant.merchant_user, "affiliate": tenant.affiliate_user}[kind]


def owner_id_for(tenant, kind):
    return {"staff": None, "merchant": tenant.merchant.pk, "affiliate": tenant.affiliate.pk}[kind]


@pytest.mark.parametrize("kind", ["staff", "merchant", "affiliate"])
def test_the_log_page_shows_the_owners_deliveries_only(tenant, kind, django_assert_max_num_queries):
    mine = WebhookEndpointFactory(network=tenant.network, owner_kind=kind, owner_id=owner_id_for(tenant, kind),
                                  url="https://mine.example.com/hook")
    theirs = WebhookEndpointFactory(network=tenant.network, owner_kind=OwnerKind.MERCHANT,
                                    owner_id=tenant.merchant.pk + 500, url="https://theirs.example.com/hook")
    for _ in range(3):
        WebhookDeliveryFactory(endpoint=mine, status=DeliveryStatus.FAILED, last_status_code=410)
    WebhookDeliveryFactory(endpoint=theirs)
    client = browser(tenant, user_for(tenant, kind))
    with django_assert_max_num_queries(20):
        response = client.get(f"{AREAS[kind]}webhooks/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("mine.example.com") == 4  # the endpoint row and three deliveries
    assert "theirs.example.com" not in html
    assert html.count("Redeliver") == 3


def test_the_empty_page_says_what_to_do_next(tenant):
    html = browser(tenant, tenant.merchant_user).get("/merchant/webhooks/").content.decode()
    assert "No endpoints yet" in html
    assert "Nothing delivered yet" in html


def test_adding_an_endpoint_shows_its_secret_once(tenant):
    client = browser(tenant, tenant.merchant_user)
    response = client.post("/merchant/webhooks/", {"url": "https://hooks.example.com/x",
                                                   "event_types": ["conversion.approved"]})
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.owner_kind, endpoint.owner_id) == ("merchant", tenant.merchant.pk)
    assert endpoint.secret in response.content.decode()
    assert endpoint.secret not in client.get("/merchant/webhooks/").content.decode()


def test_a_private_url_is_refused_on_the_page_and_nothing_saved(tenant):
    response = browser(tenant, tenant.owner).post("/console/webhooks/", {"url": "http://192.168.0.1/",
                                                                         "event_types": ["payout.paid"]})
    assert response.status_code == 400
    assert "not a public internet address" in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_htmx_redeliver_swaps_the_row(tenant):
    endpoint = WebhookEndpointFactory(network=tenant.network, owner_kind=OwnerKind.AFFILIATE,
                                      owner_id=tenant.affiliate.pk)
    delivery = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.DEAD)
    response = browser(tenant, tenant.affiliate_user).post(
        f"/portal/webhooks/deliveries/{delivery.pk}/redeliver/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().strip().startswith(f'<tr id="delivery-{delivery.pk}">')
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


def test_outsiders_cannot_see_or_redeliver(tenant, other_tenant):
    endpoint = WebhookEndpointFactory(network=tenant.network, owner_kind=OwnerKind.MERCHANT,
                                      owner_id=tenant.merchant.pk, url="https://mine.example.com/hook")
    delivery = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED)
    neighbour = factories.MerchantMembershipFactory(merchant__network=tenant.network).user
    for client in (browser(tenant, neighbour), browser(other_tenant, other_tenant.merchant_user)):
        assert "mine.example.com" not in client.get("/merchant/webhooks/").content.decode()
        assert client.post(f"/merchant/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 404
    # the other network's merchant on our host is not a member here at all
    assert browser(tenant, other_tenant.merchant_user).get("/merchant/webhooks/").status_code == 404
    assert browser(tenant, tenant.affiliate_user).get("/console/webhooks/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_the_postbacks_page_lists_and_adds(tenant, other_tenant):
    AffiliatePostbackFactory(network=tenant.network, affiliate_id=tenant.affiliate.pk + 1000,
                             url_template="https://theirs.example/pb")
    client = browser(tenant, tenant.affiliate_user)
    html = client.get("/portal/postbacks/").content.decode()
    assert "No postback yet" in html
    assert "theirs.example" not in html
    response = client.post("/portal/postbacks/", {"url_template": "https://tracker.example/pb?cid={click_id}",
                                                  "event_types": ["conversion.created"]})
    assert response.status_code == 302
    assert AffiliatePostback.objects.filter(affiliate_id=tenant.affiliate.pk).count() == 1
    assert "tracker.example/pb?cid={click_id}" in client.get("/portal/postbacks/").content.decode()


def test_a_bad_postback_template_on_the_page_names_the_problem(tenant):
    response = browser(tenant, tenant.affiliate_user).post(
        "/portal/postbacks/", {"url_template": "https://tracker.example/pb?x={nope}",
                               "event_types": ["conversion.created"]})
    assert response.status_code == 400
    assert "Unknown macros: {nope}" in response.content.decode()
    assert AffiliatePostback.objects.count() == 0
