"""Affiliate organisations through the staff API, invitations and program invitations."""

import pytest
from django.core import mail

from affiliates.models import Affiliate, AffiliateMembership, ProgramInvitation
from merchants.models import Program
from network import invitations
from network.models import AuditEvent, Invitation
from tests import factories
from tests.affiliates.helpers import second_merchant

pytestmark = pytest.mark.django_db


def test_staff_create_an_affiliate_for_an_existing_user(tenant, staff_api):
    user = factories.UserFactory(email="anna@wanderlust.test")

    response = staff_api.post("/api/v1/affiliates/", {"name": "Wanderlust", "owner_email": "Anna@wanderlust.test",
                                                      "country": "de"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["country"], body["status"], body["owner_invited"]) == ("Wanderlust", "DE", "active",
                                                                                      False)
    membership = AffiliateMembership.objects.get(affiliate_id=body["id"])
    assert (membership.user, membership.role, membership.network) == (user, "owner", tenant.network)


def test_staff_create_an_affiliate_for_a_new_email_invites_the_owner(tenant, staff_api,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post("/api/v1/affiliates/", {"name": "Tech Review VN", "owner_email": "minh@review.test",
                                                          "country": "VN"}, format="json")

    assert response.json()["owner_invited"] is True
    invitation = Invitation.objects.get()
    assert (invitation.kind, invitation.role, invitation.target_id) == ("affiliate", "owner", response.json()["id"])
    assert mail.outbox[0].to == ["minh@review.test"]
    assert AffiliateMembership.objects.filter(affiliate_id=response.json()["id"]).count() == 0


def test_accepting_an_affiliate_invitation_makes_a_membership(tenant):
    affiliate = factories.AffiliateFactory(network=tenant.network)
    _, token = invitations.create_invitation(network=tenant.network, email="new@member.test", kind="affiliate",
                                             role="member", target_id=affiliate.pk)
    user = factories.UserFactory(email="new@member.test")

    invitations.accept_invitation(token=token, user=user)

    membership = AffiliateMembership.objects.get(user=user)
    assert (membership.affiliate, membership.role) == (affiliate, "member")


@pytest.mark.parametrize(("body", "field"), [({"name": "X", "owner_email": "x@y.test", "country": "ZZ"}, "country"),
                                              ({"name": "X", "owner_email": "nope"}, "owner_email"),
                                              ({"owner_email": "x@y.test"}, "name")])
def test_bad_input_names_the_field_and_creates_nothing(tenant, staff_api, body, field):
    before = Affiliate.objects.count()

    response = staff_api.post("/api/v1/affiliates/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert Affiliate.objects.count() == before
    assert Invitation.objects.count() == 0


def test_only_staff_use_the_affiliates_endpoint(tenant, merchant_api, affiliate_api):
    assert merchant_api.get("/api/v1/affiliates/").status_code == 403
    assert affiliate_api.post("/api/v1/affiliates/", {"name": "X", "owner_email": "x@y.test"},
                              format="json").status_code == 403
    assert Affiliate.objects.count() == 1


def test_staff_list_only_their_network_and_move_statuses(tenant, other_tenant, staff_api):
    pending = factories.AffiliateFactory(network=tenant.network, name="Pending One", status=Affiliate.Status.PENDING)

    listed = staff_api.get("/api/v1/affiliates/?status=pending")
    approved = staff_api.post(f"/api/v1/affiliates/{pending.pk}/approve/", {}, format="json")
    suspended = staff_api.post(f"/api/v1/affiliates/{pending.pk}/suspend/", {"reason": "Fraud"}, format="json")
    again = staff_api.post(f"/api/v1/affiliates/{pending.pk}/approve/", {}, format="json")

    assert [row["name"] for row in listed.json()["results"]] == ["Pending One"]
    assert (approved.json()["status"], suspended.json()["status"]) == ("active", "suspended")
    assert again.status_code == 400 and list(again.json()["error"]["fields"]) == ["status"]
    assert list(AuditEvent.objects.filter(object_type="Affiliate", object_id=str(pending.pk))
                .order_by("created_at", "pk").values_list("action", flat=True)) == [
        "affiliate.active", "affiliate.suspended"]
    outsider = other_tenant.client_for("staff")
    assert outsider.get(f"/api/v1/affiliates/{pending.pk}/").status_code == 404
    assert outsider.post(f"/api/v1/affiliates/{pending.pk}/reinstate/", {}, format="json").status_code == 404
    pending.refresh_from_db()
    assert pending.status == "suspended"


def test_merchant_invites_an_affiliate_to_a_private_program(tenant, merchant_api, affiliate_api):
    Program.objects.filter(pk=tenant.program.pk).update(visibility=Program.Visibility.PRIVATE)

    created = merchant_api.post("/api/v1/program-invitations/", {"program": tenant.program.pk,
                                                                 "affiliate": tenant.affiliate.pk}, format="json")
    repeated = merchant_api.post("/api/v1/program-invitations/", {"program": tenant.program.pk,
                                                                  "affiliate": tenant.affiliate.pk}, format="json")

    assert (created.status_code, repeated.status_code) == (201, 200)
    assert [row["id"] for row in affiliate_api.get("/api/v1/marketplace/").json()["results"]] == [tenant.program.pk]


def test_another_merchant_cannot_invite_to_my_program(tenant, other_tenant):
    _, _, rival_api = second_merchant(tenant)

    response = rival_api.post("/api/v1/program-invitations/", {"program": tenant.program.pk,
                                                               "affiliate": tenant.affiliate.pk}, format="json")
    foreign = tenant.client_for("merchant").post("/api/v1/program-invitations/", {
        "program": tenant.program.pk, "affiliate": other_tenant.affiliate.pk}, format="json")

    assert list(response.json()["error"]["fields"]) == ["program"]
    assert list(foreign.json()["error"]["fields"]) == ["affiliate"]
    assert ProgramInvitation.objects.count() == 0
