"""Tracking links through the API: approved enrollments only, deep links on allowed domains, sub-ids."""

import pytest

from affiliates import selectors
from affiliates.models import Enrollment, TrackingLink
from merchants.models import Program
from tests import factories
from tests.affiliates.helpers import second_affiliate

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrollment(tenant):
    return factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate)


def test_create_a_deep_link_with_sub_ids(tenant, enrollment, affiliate_api):
    response = affiliate_api.post("/api/v1/links/", {
        "program": tenant.program.pk, "destination_url": "https://blog.example.com/tents?ref=x",
        "sub1": "summer", "sub2": "header", "label": "Tents post"}, format="json")

    assert response.status_code == 201
    body = response.json()
    link = TrackingLink.objects.get(pk=body["id"])
    assert body["code"] == link.code
    assert body["tracking_url"] == f"https://testserver/c/{link.code}?sub1=summer&sub2=header"
    assert (link.destination_url, link.sub1, link.sub2, link.label) == (
        "https://blog.example.com/tents?ref=x", "summer", "header", "Tents post")
    assert (link.enrollment, link.program, link.affiliate) == (enrollment, tenant.program, tenant.affiliate)
    assert body["is_usable"] is True


def test_a_destination_off_the_allowed_domains_is_refused(tenant, enrollment, affiliate_api):
    response = affiliate_api.post("/api/v1/links/", {
        "program": tenant.program.pk, "destination_url": "https://evil.test/phish"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["destination_url"]
    assert "allowed domains" in response.json()["error"]["fields"]["destination_url"][0]
    assert TrackingLink.objects.count() == 0


@pytest.mark.parametrize("status", [Enrollment.Status.PENDING, Enrollment.Status.REJECTED,
                                    Enrollment.Status.SUSPENDED])
def test_links_need_an_approved_enrollment(tenant, affiliate_api, status):
    factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate, status=status)

    response = affiliate_api.post("/api/v1/links/", {"program": tenant.program.pk}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["program"]
    assert TrackingLink.objects.count() == 0


def test_a_program_of_another_network_is_refused(tenant, other_tenant, affiliate_api):
    factories.EnrollmentFactory(program=other_tenant.program, affiliate=other_tenant.affiliate)

    response = affiliate_api.post("/api/v1/links/", {"program": other_tenant.program.pk}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["program"]
    assert TrackingLink.objects.count() == 0


def test_a_sub_id_too_long_names_the_field(tenant, enrollment, affiliate_api):
    response = affiliate_api.post("/api/v1/links/", {"program": tenant.program.pk, "sub3": "x" * 101},
                                  format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["sub3"]
    assert TrackingLink.objects.count() == 0


def test_merchants_do_not_create_links(tenant, enrollment, merchant_api):
    assert merchant_api.post("/api/v1/links/", {"program": tenant.program.pk}, format="json").status_code == 403
    assert TrackingLink.objects.count() == 0


def test_another_affiliate_and_another_network_cannot_see_the_link(tenant, other_tenant, enrollment):
    link = factories.TrackingLinkFactory(enrollment=enrollment)
    _, other_api = second_affiliate(tenant)

    assert other_api.get(f"/api/v1/links/{link.pk}/").status_code == 404
    assert other_api.get("/api/v1/links/").json()["results"] == []
    assert other_tenant.client_for("affiliate").get(f"/api/v1/links/{link.pk}/").status_code == 404
    assert other_tenant.client_for("staff").get(f"/api/v1/links/{link.pk}/").status_code == 404


def test_links_list_query_count_is_pinned(tenant, enrollment, affiliate_api, django_assert_num_queries):
    for index in range(6):
        factories.TrackingLinkFactory(enrollment=enrollment, sub1=f"s{index}")

    with django_assert_num_queries(5):
        response = affiliate_api.get("/api/v1/links/")

    assert response.json()["count"] == 6


def test_link_is_usable_follows_enrollment_and_terms(tenant, enrollment):
    link = factories.TrackingLinkFactory(enrollment=enrollment)

    assert selectors.link_is_usable(selectors.link_by_code(link.code)) is True
    assert list(selectors.usable_links(network=tenant.network)) == [link]

    Program.objects.filter(pk=tenant.program.pk).update(terms_version=2)
    assert selectors.link_is_usable(selectors.link_by_code(link.code)) is False
    assert list(selectors.usable_links(network=tenant.network)) == []

    Enrollment.objects.filter(pk=enrollment.pk).update(accepted_terms_version=2, status=Enrollment.Status.SUSPENDED)
    assert selectors.link_is_usable(selectors.link_by_code(link.code)) is False

    Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.APPROVED)
    assert selectors.link_is_usable(selectors.link_by_code(link.code)) is True


def test_accepting_terms_bumps_the_program_cache_version(tenant):
    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate,
                                             accepted_terms_version=1)
    Program.objects.filter(pk=tenant.program.pk).update(terms_version=2)
    before = Program.objects.get(pk=tenant.program.pk).cache_version

    from affiliates import services

    services.accept_terms(network=tenant.network, enrollment_id=enrollment.pk, affiliate_id=tenant.affiliate.pk)

    assert Program.objects.get(pk=tenant.program.pk).cache_version == before + 1
