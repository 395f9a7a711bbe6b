"""Merchant conversion and integration pages, the affiliate's conversion page: scoping and content."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.tracking.factories import click_for, link_for
from tracking import services
from tracking.models import StripeIntegration

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def host(tenant) -> dict:
    return {"HTTP_HOST": f"{tenant.network.slug}.localhost"}


def make_conversion(tenant, order_id="PG-1", **extra):
    now = timezone.now()
    click = click_for(link_for(tenant), created_at=now - timedelta(hours=1), sub1="spring-sale")
    return services.record_conversion(program=tenant.program, order_id=order_id, amount="80.00", currency="USD",
                                      source="api", click_id=click.click_id, now=now, **extra)[0]


def test_merchant_conversions_page(tenant, other_tenant, django_assert_max_num_queries):
    make_conversion(tenant)
    make_conversion(other_tenant, order_id="FOREIGN")
    client = logged_in(tenant.merchant_user)
    client.get("/merchant/conversions/", **host(tenant))
    with django_assert_max_num_queries(16):
        response = client.get("/merchant/conversions/", **host(tenant))
    assert response.status_code == 200
    content = response.content.decode()
    assert "PG-1" in content and "FOREIGN" not in content
    assert "spring-sale" in content
    assert "Explanation" in content
    filtered = client.get("/merchant/conversions/?status=hold", **host(tenant)).content.decode()
    assert "PG-1" not in filtered
    assert "No conversions yet" in filtered


def test_merchant_pages_hidden_from_outsiders(tenant, other_tenant):
    make_conversion(tenant)
    other_merchant = factories.MerchantMembershipFactory(merchant__network=tenant.network).user
    for user in (other_tenant.merchant_user, tenant.affiliate_user):
        for path in ("/merchant/conversions/", "/merchant/integration/"):
            assert logged_in(user).get(path, **host(tenant)).status_code == 404
    response = logged_in(other_merchant).get("/merchant/conversions/", **host(tenant))
    assert response.status_code == 200
    assert "PG-1" not in response.content.decode()


def test_integration_page_shows_snippets_and_saves_stripe_secret(tenant, other_tenant):
    client = logged_in(tenant.merchant_user)
    page = client.get("/merchant/integration/", **host(tenant)).content.decode()
    assert tenant.program.postback_token in page
    assert "/t/tracker.js" in page and "/api/v1/conversions/" in page
    assert other_tenant.program.postback_token not in page
    response = client.post("/merchant/integration/", {"program": tenant.program.pk,
                                                      "webhook_secret": "whsec_abcdefghijkl"}, **host(tenant))
    assert response.status_code == 302
    integration = StripeIntegration.objects.get()
    assert (integration.program_id, integration.webhook_secret) == (tenant.program.pk, "whsec_abcdefghijkl")
    assert f"/integrations/stripe/{integration.token}/" in client.get("/merchant/integration/",
                                                                      **host(tenant)).content.decode()


def test_integration_page_validation_and_foreign_program(tenant, other_tenant):
    client = logged_in(tenant.merchant_user)
    bad = client.post("/merchant/integration/", {"program": tenant.program.pk, "webhook_secret": "nope"},
                      **host(tenant))
    assert bad.status_code == 400
    assert "whsec_" in bad.content.decode()
    foreign = client.post("/merchant/integration/", {"program": other_tenant.program.pk,
                                                     "webhook_secret": "whsec_abcdefghijkl"}, **host(tenant))
    assert foreign.status_code == 404
    assert StripeIntegration.objects.count() == 0


def test_portal_conversions_page(tenant, other_tenant, django_assert_max_num_queries):
    make_conversion(tenant)
    make_conversion(other_tenant, order_id="FOREIGN")
    client = logged_in(tenant.affiliate_user)
    client.get("/portal/conversions/", **host(tenant))
    with django_assert_max_num_queries(16):
        response = client.get("/portal/conversions/", **host(tenant))
    content = response.content.decode()
    assert response.status_code == 200
    assert "PG-1" in content and "FOREIGN" not in content and "spring-sale" in content
    other_affiliate = factories.AffiliateMembershipFactory(affiliate__network=tenant.network).user
    assert "PG-1" not in logged_in(other_affiliate).get("/portal/conversions/", **host(tenant)).content.decode()
    assert logged_in(other_tenant.affiliate_user).get("/portal/conversions/", **host(tenant)).status_code == 404
