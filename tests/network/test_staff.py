"""Staff management: invite by email (page and API), accept the invitation, change roles, remove."""

import re

import pytest
from django.core import mail
from django.test import Client

from network import invitations
from network.models import ApiKey, AuditEvent, Invitation, Membership
from tests import factories

HOST = {"HTTP_HOST": "acme.localhost"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def invite_link(message) -> str:
    return re.search(r"http://\S+/invitations/\S+/", message.body).group(0)


def test_owner_invites_staff_and_the_email_carries_the_link(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(tenant.owner).post("/console/staff/invite/",
                                                 {"email": "New.Admin@Example.test", "role": "admin"}, **HOST)
    assert response.status_code == 302
    invitation = Invitation.objects.get(network=tenant.network)
    assert (invitation.email, invitation.kind, invitation.role, invitation.invited_by) == (
        "new.admin@example.test", "staff", "admin", tenant.owner)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.admin@example.test"]
    assert "Acme Network" in mail.outbox[0].subject
    assert invite_link(mail.outbox[0]).startswith("http://acme.localhost/invitations/")
    assert AuditEvent.objects.filter(network=tenant.network, action="staff.invited").count() == 1


@pytest.mark.parametrize(("data", "field"), [({"email": "not-an-email", "role": "admin"}, "email"),
                                             ({"email": "x@example.test", "role": "emperor"}, "role")])
def test_bad_invitations_name_the_field_and_send_nothing(tenant, data, field, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(tenant.owner).post("/console/staff/invite/", data, **HOST)
    assert response.status_code == 400
    assert field in response.context["invite_form"].errors
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_inviting_an_existing_member_is_refused(tenant):
    response = client_for(tenant.owner).post("/console/staff/invite/", {"email": tenant.owner.email.upper(),
                                                                        "role": "admin"}, **HOST)
    assert response.status_code == 400
    assert "email" in response.context["invite_form"].errors
    assert not Invitation.objects.exists()


def test_a_manager_cannot_invite(tenant):
    manager = factories.MembershipFactory(network=tenant.network, role=Membership.Role.MANAGER).user
    response = client_for(manager).post("/console/staff/invite/", {"email": "x@example.test", "role": "owner"},
                                        **HOST)
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_up_or_log_in(tenant):
    _, token = invitations.create_invitation(network=tenant.network, email="fresh@example.test", kind="staff",
                                             role="manager")
    response = Client().get(f"/invitations/{token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/signup/?next=%2Finvitations%2F{token}%2F"
    _, token = invitations.create_invitation(network=tenant.network, email=tenant.merchant_user.email,
                                             kind="staff", role="manager")
    assert Client().get(f"/invitations/{token}/")["Location"].startswith("/accounts/login/?next=")


def test_accepting_an_invitation_makes_a_staff_member(tenant):
    user = factories.UserFactory(email="fresh@example.test")
    _, token = invitations.create_invitation(network=tenant.network, email="fresh@example.test", kind="staff",
                                             role="admin")
    client = client_for(user)
    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert b"Acme Network" in page.content
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert Membership.objects.get(network=tenant.network, user=user).role == "admin"
    assert client.get("/console/").status_code == 200
    # Used once: the link is gone.
    assert client.post(f"/invitations/{token}/").status_code == 404


def test_an_invitation_for_another_address_is_refused(tenant):
    _, token = invitations.create_invitation(network=tenant.network, email="someone@example.test", kind="staff",
                                             role="owner")
    response = client_for(tenant.affiliate_user).post(f"/invitations/{token}/")
    assert response.status_code == 400
    assert not Membership.objects.filter(user=tenant.affiliate_user).exists()
    assert Invitation.objects.get().accepted_at is None


def test_unknown_tokens_are_404(db):
    assert Client().get("/invitations/nope/").status_code == 404


def test_owner_changes_a_role(tenant):
    manager = factories.MembershipFactory(network=tenant.network, role=Membership.Role.MANAGER)
    response = client_for(tenant.owner).post(f"/console/staff/{manager.pk}/", {"action": "role", "role": "admin"},
                                             **HOST)
    assert response.status_code == 302
    assert Membership.objects.get(pk=manager.pk).role == "admin"
    event = AuditEvent.objects.get(action="staff.role_changed")
    assert event.data == {"email": manager.user.email, "from": "manager", "to": "admin"}


def test_a_bad_role_changes_nothing(tenant):
    manager = factories.MembershipFactory(network=tenant.network, role=Membership.Role.MANAGER)
    client = client_for(tenant.owner)
    response = client.post(f"/console/staff/{manager.pk}/", {"action": "role", "role": "emperor"}, **HOST)
    assert response.status_code == 303
    assert Membership.objects.get(pk=manager.pk).role == "manager"


def test_the_last_owner_can_be_neither_demoted_nor_removed(tenant):
    owner = Membership.objects.get(network=tenant.network, user=tenant.owner)
    client = client_for(tenant.owner)
    assert client.post(f"/console/staff/{owner.pk}/", {"action": "role", "role": "manager"}, **HOST).status_code == 303
    assert client.post(f"/console/staff/{owner.pk}/", {"action": "remove"}, **HOST).status_code == 303
    assert Membership.objects.get(pk=owner.pk).role == "owner"
    page = client.get("/console/staff/", **HOST)
    assert b"The network needs at least one owner." in page.content


def test_an_owner_can_leave_when_another_owner_stays(tenant):
    factories.MembershipFactory(network=tenant.network, role=Membership.Role.OWNER)
    owner = Membership.objects.get(network=tenant.network, user=tenant.owner)
    response = client_for(tenant.owner).post(f"/console/staff/{owner.pk}/", {"action": "remove"}, **HOST)
    assert response["Location"] == "/home/"
    assert not Membership.objects.filter(pk=owner.pk).exists()


def test_removing_a_member_revokes_their_staff_keys(tenant, django_capture_on_commit_callbacks):
    manager = factories.MembershipFactory(network=tenant.network, role=Membership.Role.MANAGER)
    factories.api_key_for(network=tenant.network, user=manager.user, kind="staff")
    response = client_for(tenant.owner).post(f"/console/staff/{manager.pk}/", {"action": "remove"}, **HOST)
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=manager.pk).exists()
    assert ApiKey.objects.get(user=manager.user).revoked_at is not None


def test_staff_of_another_network_cannot_be_touched(tenant, other_tenant):
    rival = Membership.objects.get(network=other_tenant.network, user=other_tenant.owner)
    client = client_for(tenant.owner)
    assert client.post(f"/console/staff/{rival.pk}/", {"action": "remove"}, **HOST).status_code == 404
    assert client.post(f"/console/staff/{rival.pk}/", {"action": "role", "role": "manager"}, **HOST).status_code == 404
    assert Membership.objects.get(pk=rival.pk).role == "owner"


def test_staff_page_lists_only_this_networks_staff(tenant, other_tenant):
    page = client_for(tenant.owner).get("/console/staff/", **HOST)
    assert tenant.owner.email.encode() in page.content
    assert other_tenant.owner.email.encode() not in page.content


# --- API ---------------------------------------------------------------------------------------------------------

def test_api_lists_staff(tenant, other_tenant, staff_api, django_assert_max_num_queries):
    factories.MembershipFactory(network=tenant.network, role=Membership.Role.MANAGER,
                                user__email="zz-manager@example.test")
    with django_assert_max_num_queries(8):
        body = staff_api.get("/api/v1/staff/").json()
    assert [(row["email"], row["role"]) for row in body["results"]] == [
        (tenant.owner.email, "owner"), ("zz-manager@example.test", "manager")]


def test_api_invites_staff(tenant, staff_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post("/api/v1/staff/", {"email": "api@example.test", "role": "manager"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["email"] == "api@example.test"
    assert Invitation.objects.get().role == "manager"
    assert "/invitations/" in mail.outbox[0].body


@pytest.mark.parametrize(("body", "field"), [({"email": "nope", "role": "manager"}, "email"),
                                             ({"email": "a@example.test", "role": "king"}, "role"),
                                             ({"role": "manager"}, "email")])
def test_api_invite_validation_names_the_field(tenant, staff_api, body, field):
    response = staff_api.post("/api/v1/staff/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Invitation.objects.exists()


def test_api_staff_is_for_owners_and_admins_of_the_keys_network(tenant, other_tenant, merchant_api, affiliate_api):
    manager = factories.MembershipFactory(network=tenant.network, role=Membership.Role.MANAGER).user
    from rest_framework.test import APIClient

    manager_api = APIClient()
    manager_api.credentials(HTTP_AUTHORIZATION="Bearer " + factories.api_key_for(
        network=tenant.network, user=manager, kind="staff"))
    for client in (manager_api, merchant_api, affiliate_api):
        assert client.get("/api/v1/staff/").status_code == 403
        assert client.post("/api/v1/staff/", {"email": "x@example.test", "role": "owner"},
                           format="json").status_code == 403
    assert not Invitation.objects.exists()
    rival = other_tenant.client_for("staff").get("/api/v1/staff/").json()
    assert [row["email"] for row in rival["results"]] == [other_tenant.owner.email]


def test_logging_in_from_an_invitation_comes_back_to_it(tenant):
    _, token = invitations.create_invitation(network=tenant.network, email=tenant.merchant_user.email,
                                             kind="staff", role="manager")
    client = Client()
    login_url = client.get(f"/invitations/{token}/")["Location"]
    response = client.post(login_url, {"login": tenant.merchant_user.email, "password": "correct horse battery"})
    assert response["Location"] == f"/invitations/{token}/"
    assert client.post(f"/invitations/{token}/")["Location"] == "/console/"
    assert Membership.objects.get(network=tenant.network, user=tenant.merchant_user).role == "manager"


def test_signing_up_from_an_invitation_verifies_the_email_and_comes_back(tenant, django_capture_on_commit_callbacks):
    _, token = invitations.create_invitation(network=tenant.network, email="newbie@example.test", kind="staff",
                                             role="admin")
    client = Client()
    signup_url = client.get(f"/invitations/{token}/")["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(signup_url, {"email": "newbie@example.test", "password1": "a long safe pass 42",
                                            "password2": "a long safe pass 42"})
    assert response.status_code == 302
    confirm = re.search(r"http://testserver(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    response = client.post(confirm)
    assert response["Location"] == f"/invitations/{token}/"
    assert client.post(f"/invitations/{token}/")["Location"] == "/console/"
    assert Membership.objects.get(network=tenant.network, user__email="newbie@example.test").role == "admin"
