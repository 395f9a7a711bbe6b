"""Portal, join, merchant review and console pages: happy paths, validation and outsiders."""

import pytest
from django.test import Client

from affiliates.models import (
    Affiliate,
    AffiliateMembership,
    Coupon,
    Enrollment,
    ProgramInvitation,
    TrackingLink,
)
from merchants.models import Program
from tests import factories

pytestmark = pytest.mark.django_db


def client_for(user, host="testserver"):
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


@pytest.fixture
def affiliate_client(tenant):
    return client_for(tenant.affiliate_user)


@pytest.fixture
def merchant_client(tenant):
    return client_for(tenant.merchant_user)


# --- join ---


def test_anonymous_visitors_are_sent_to_sign_up_with_next_join(tenant):
    response = Client(HTTP_HOST="acme.localhost").get("/join/")

    assert response.status_code == 200
    assert b"/accounts/signup/?next=%2Fjoin%2F" in response.content


def test_a_logged_in_user_joins_as_an_active_affiliate(tenant):
    user = factories.UserFactory()
    client = client_for(user, host="acme.localhost")

    response = client.post("/join/", {"name": "Canal Brasil", "kind": "company", "country": "BR",
                                      "website": "https://youtube.example/canal", "channels": ["video", "social"]})

    assert response.status_code == 302
    affiliate = AffiliateMembership.objects.get(user=user).affiliate
    assert (affiliate.network, affiliate.name, affiliate.status, affiliate.country.code, affiliate.channels) == (
        tenant.network, "Canal Brasil", "active", "BR", ["video", "social"])
    assert client.get("/join/").status_code == 302  # already an affiliate here: off to the portal


def test_join_with_a_missing_name_shows_the_error_and_creates_nothing(tenant):
    user = factories.UserFactory()
    before = Affiliate.objects.count()

    response = client_for(user, host="acme.localhost").post("/join/", {"name": "", "kind": "individual"})

    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert Affiliate.objects.count() == before


def test_join_on_a_host_without_a_network_is_404(db):
    assert Client(HTTP_HOST="nowhere.test").get("/join/").status_code in (400, 404)


# --- portal ---


@pytest.mark.parametrize("path", ["/portal/", "/portal/marketplace/", "/portal/my-programs/", "/portal/links/",
                                  "/portal/creatives/", "/portal/team/"])
def test_portal_pages_render_for_the_affiliate_and_404_for_a_merchant(tenant, affiliate_client, merchant_client, path):
    assert affiliate_client.get(path).status_code == 200
    assert merchant_client.get(path).status_code == 404


def test_marketplace_page_filters_and_shows_figures(tenant, affiliate_client):
    Program.objects.filter(pk=tenant.program.pk).update(name="Green Hosting", category="hosting")
    factories.ProgramFactory(merchant=tenant.merchant, name="Travel Gear", category="travel")

    response = affiliate_client.get("/portal/marketplace/?category=hosting")

    assert [row["program"].name for row in response.context["rows"]] == ["Green Hosting"]
    assert b"sale: 10 %" in response.content


def test_program_page_apply_requires_accepting_terms(tenant, affiliate_client):
    refused = affiliate_client.post(f"/portal/programs/{tenant.program.pk}/", {"message": "hi"})
    applied = affiliate_client.post(f"/portal/programs/{tenant.program.pk}/", {"message": "hi",
                                                                               "accept_terms": "on"})

    assert refused.status_code == 400
    assert "accept_terms" in refused.context["form"].errors
    assert applied.status_code == 302
    assert Enrollment.objects.get().status == "approved"


def test_program_page_of_another_network_or_a_private_program_is_404(tenant, other_tenant, affiliate_client):
    private = factories.ProgramFactory(merchant=tenant.merchant, visibility=Program.Visibility.PRIVATE)

    assert affiliate_client.get(f"/portal/programs/{other_tenant.program.pk}/").status_code == 404
    assert affiliate_client.get(f"/portal/programs/{private.pk}/").status_code == 404
    assert affiliate_client.post(f"/portal/programs/{private.pk}/", {"accept_terms": "on"}).status_code == 404
    assert Enrollment.objects.count() == 0


def test_link_builder_creates_a_link_and_refuses_foreign_domains(tenant, affiliate_client):
    factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate)

    refused = affiliate_client.post("/portal/links/", {"program": tenant.program.pk,
                                                       "destination_url": "https://evil.test/"})
    created = affiliate_client.post("/portal/links/", {"program": tenant.program.pk, "sub1": "nl",
                                                       "destination_url": "https://shop.example.com/sale"})
    page = affiliate_client.get("/portal/links/")

    assert refused.status_code == 400
    assert "destination_url" in refused.context["form"].errors
    assert created.status_code == 302
    link = TrackingLink.objects.get()
    assert f"https://testserver/c/{link.code}?sub1=nl".encode() in page.content


def test_my_programs_shows_new_terms_and_accepting_them(tenant, affiliate_client):
    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate)
    Program.objects.filter(pk=tenant.program.pk).update(terms_version=2)

    page = affiliate_client.get("/portal/my-programs/")
    response = affiliate_client.post(f"/portal/my-programs/{enrollment.pk}/accept-terms/")

    assert b"Accept the new terms" in page.content
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.accepted_terms_version == 2


def test_another_affiliate_cannot_accept_my_terms(tenant):
    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate)
    Program.objects.filter(pk=tenant.program.pk).update(terms_version=2)
    other = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)

    response = client_for(other.user).post(f"/portal/my-programs/{enrollment.pk}/accept-terms/")

    assert response.status_code == 404
    enrollment.refresh_from_db()
    assert enrollment.accepted_terms_version == 1


def test_team_owner_adds_an_existing_user_and_invites_a_new_one(tenant, affiliate_client):
    existing = factories.UserFactory(email="colleague@example.test")

    added = affiliate_client.post("/portal/team/", {"email": "colleague@example.test", "role": "member"})
    invited = affiliate_client.post("/portal/team/", {"email": "new@example.test", "role": "member"})
    bad = affiliate_client.post("/portal/team/", {"email": "not-an-email", "role": "member"})

    assert (added.status_code, invited.status_code, bad.status_code) == (302, 302, 400)
    assert AffiliateMembership.objects.filter(affiliate=tenant.affiliate, user=existing, role="member").exists()
    assert b"new@example.test" in affiliate_client.get("/portal/team/").content


def test_team_members_who_are_not_owners_cannot_invite(tenant):
    member = factories.AffiliateMembershipFactory(affiliate=tenant.affiliate, role="member")

    response = client_for(member.user).post("/portal/team/", {"email": "x@example.test", "role": "member"})

    assert response.status_code == 404
    assert AffiliateMembership.objects.filter(affiliate=tenant.affiliate).count() == 2


def test_creatives_page_applies_the_affiliates_link(tenant, affiliate_client):
    from merchants.models import Creative

    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate)
    link = factories.TrackingLinkFactory(enrollment=enrollment)
    Creative.objects.create(network=tenant.network, program=tenant.program, kind="text", name="Spring sale",
                            text="Save 20% on tents", destination_url="https://shop.example.com/tents")

    response = affiliate_client.get("/portal/creatives/")

    [row] = response.context["rows"]
    assert row["url"] == f"https://testserver/c/{link.code}?to=https%3A%2F%2Fshop.example.com%2Ftents"
    assert "Save 20% on tents</a>" in row["snippet"]


# --- merchant ---


def test_merchant_review_queue_approves_with_htmx(tenant, merchant_client):
    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate,
                                             status=Enrollment.Status.PENDING)

    queue = merchant_client.get("/merchant/enrollments/")
    response = merchant_client.post(f"/merchant/enrollments/{enrollment.pk}/approve/", HTTP_HX_REQUEST="true")

    assert [e.pk for e in queue.context["enrollments"]] == [enrollment.pk]
    assert response.status_code == 200
    assert b'id="enrollment-' in response.content and b"Approved" in response.content
    enrollment.refresh_from_db()
    assert enrollment.status == "approved"


def test_merchant_reject_without_reason_is_refused(tenant, merchant_client):
    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate,
                                             status=Enrollment.Status.PENDING)

    response = merchant_client.post(f"/merchant/enrollments/{enrollment.pk}/reject/", HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"


def test_another_merchant_cannot_see_or_decide(tenant, other_tenant):
    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate,
                                             status=Enrollment.Status.PENDING)
    rival = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    rival_client = client_for(rival.user)

    assert rival_client.get("/merchant/enrollments/").context["enrollments"] == []
    assert rival_client.post(f"/merchant/enrollments/{enrollment.pk}/approve/").status_code == 404
    assert client_for(other_tenant.merchant_user).post(
        f"/merchant/enrollments/{enrollment.pk}/approve/").status_code == 404
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"


def test_merchant_assigns_a_coupon_and_bad_codes_are_refused(tenant, merchant_client):
    factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate)

    bad = merchant_client.post("/merchant/coupons/", {"program": tenant.program.pk,
                                                      "affiliate": tenant.affiliate.pk, "code": "x"})
    good = merchant_client.post("/merchant/coupons/", {"program": tenant.program.pk,
                                                       "affiliate": tenant.affiliate.pk, "code": "spring20"})

    assert bad.status_code == 400 and "code" in bad.context["form"].errors
    assert good.status_code == 302
    assert list(Coupon.objects.values_list("code", flat=True)) == ["SPRING20"]


def test_merchant_invites_to_a_private_program_page(tenant, merchant_client):
    response = merchant_client.post("/merchant/program-invitations/", {"program": tenant.program.pk,
                                                                       "affiliate": tenant.affiliate.pk})

    assert response.status_code == 302
    assert ProgramInvitation.objects.filter(program=tenant.program, affiliate=tenant.affiliate).exists()


@pytest.mark.parametrize("path", ["/merchant/enrollments/", "/merchant/coupons/", "/merchant/program-invitations/"])
def test_merchant_pages_are_404_for_affiliates(affiliate_client, path):
    assert affiliate_client.get(path).status_code == 404


# --- console ---


def test_console_lists_creates_approves_and_suspends(tenant, other_tenant):
    staff = client_for(tenant.owner)
    pending = factories.AffiliateFactory(network=tenant.network, name="Needs Review", status="pending")

    page = staff.get("/console/affiliates/?status=pending")
    staff.post(f"/console/affiliates/{pending.pk}/approve/")
    created = staff.post("/console/affiliates/", {"name": "UK Letters", "owner_email": "ed@letters.test",
                                                  "country": "GB"})
    invalid = staff.post("/console/affiliates/", {"name": "", "owner_email": "ed@letters.test"})

    assert [a.name for a in page.context["affiliates"]] == ["Needs Review"]
    pending.refresh_from_db()
    assert pending.status == "active"
    assert created.status_code == 302 and Affiliate.objects.filter(name="UK Letters", country="GB").exists()
    assert invalid.status_code == 400
    assert client_for(other_tenant.owner).post(f"/console/affiliates/{pending.pk}/suspend/").status_code == 404
    assert client_for(tenant.affiliate_user).get("/console/affiliates/").status_code == 404
    pending.refresh_from_db()
    assert pending.status == "active"


def test_merchant_bulk_approves_only_their_own_enrollments(tenant):
    mine = [factories.EnrollmentFactory(program=tenant.program, status=Enrollment.Status.PENDING) for _ in range(2)]
    rival = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    rival_program = factories.ProgramFactory(merchant=rival.merchant)
    theirs = factories.EnrollmentFactory(program=rival_program, status=Enrollment.Status.PENDING)

    response = client_for(tenant.merchant_user).post("/merchant/enrollments/bulk/", {
        "ids": [mine[0].pk, mine[1].pk, theirs.pk], "decision": "approve"})

    assert response.status_code == 302
    assert sorted(Enrollment.objects.filter(status="approved").values_list("pk", flat=True)) == sorted(
        e.pk for e in mine)
    theirs.refresh_from_db()
    assert theirs.status == "pending"


def test_merchant_bulk_reject_without_reason_changes_nothing(tenant):
    enrollment = factories.EnrollmentFactory(program=tenant.program, status=Enrollment.Status.PENDING)

    client_for(tenant.merchant_user).post("/merchant/enrollments/bulk/", {"ids": [enrollment.pk],
                                                                          "decision": "reject"})

    enrollment.refresh_from_db()
    assert enrollment.status == "pending"
    assert enrollment.events.count() == 0


def test_merchant_analysts_cannot_decide_or_assign(tenant):
    analyst = factories.MerchantMembershipFactory(merchant=tenant.merchant, role="analyst")
    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate,
                                             status=Enrollment.Status.PENDING)
    client = client_for(analyst.user)

    assert client.get("/merchant/enrollments/").status_code == 200
    assert client.post(f"/merchant/enrollments/{enrollment.pk}/approve/").status_code == 404
    assert client.post("/merchant/coupons/", {"program": tenant.program.pk, "affiliate": tenant.affiliate.pk,
                                              "code": "ANALYST1"}).status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"
    assert Coupon.objects.count() == 0
