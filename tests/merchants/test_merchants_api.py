"""Merchant organisations: staff create (owner invited or added), approve and suspend; invitations accept."""

import pytest
from django.core import mail

from merchants.models import Merchant, MerchantMembership
from network import invitations
from network.models import Invitation
from tests import factories

pytestmark = pytest.mark.django_db


def test_staff_create_a_merchant_and_invite_a_new_owner(tenant, staff_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post("/api/v1/merchants/", {"name": "Hostly", "owner_email": "Boss@Hostly.example"},
                                  format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["status"], body["owner"]) == ("Hostly", "active",
                                                             {"email": "boss@hostly.example", "invited": True})
    merchant = Merchant.objects.get(pk=body["id"])
    assert merchant.network == tenant.network
    invitation = Invitation.objects.get(target_id=merchant.pk)
    assert (invitation.kind, invitation.role, invitation.email) == ("merchant", "admin", "boss@hostly.example")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["boss@hostly.example"]
    assert "/invitations/" in mail.outbox[0].body
    assert not MerchantMembership.objects.filter(merchant=merchant).exists()


def test_the_invited_owner_accepts_and_becomes_admin(tenant):
    from merchants import services

    merchant, _ = services.create_merchant(network=tenant.network, name="Lingo", owner_email="new@lingo.example",
                                           actor=tenant.owner)
    invitation = Invitation.objects.get(target_id=merchant.pk)
    user = factories.UserFactory(email="new@lingo.example")
    # The token is only in the email; make a fresh one for the same merchant to accept here.
    _, token = invitations.create_invitation(network=tenant.network, email=user.email, kind="merchant",
                                             target_id=merchant.pk, role="analyst")
    invitations.accept_invitation(token=token, user=user)
    membership = MerchantMembership.objects.get(merchant=merchant, user=user)
    assert (membership.role, membership.network) == ("analyst", tenant.network)
    assert invitation.accepted_at is None


def test_an_existing_user_becomes_admin_at_once(tenant, staff_api):
    existing = factories.UserFactory(email="known@example.test")
    response = staff_api.post("/api/v1/merchants/", {"name": "Known", "owner_email": "KNOWN@example.test"},
                              format="json")
    assert response.status_code == 201
    assert response.json()["owner"]["invited"] is False
    membership = MerchantMembership.objects.get(merchant_id=response.json()["id"])
    assert (membership.user, membership.role) == (existing, "admin")
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "", "owner_email": "a@b.example"}, "name"),
    ({"name": "X", "owner_email": "nope"}, "owner_email"),
    ({"name": "X", "owner_email": "a@b.example", "country": "Germany"}, "country"),
])
def test_a_bad_create_names_the_field(tenant, staff_api, body, field):
    count = Merchant.objects.count()
    response = staff_api.post("/api/v1/merchants/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert Merchant.objects.count() == count
    assert Invitation.objects.count() == 0


def test_a_duplicate_name_is_refused(tenant, staff_api):
    count = Merchant.objects.count()
    response = staff_api.post("/api/v1/merchants/", {"name": tenant.merchant.name.upper(),
                                                     "owner_email": "a@b.example"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["A merchant with this name already exists in the network."]}
    assert Merchant.objects.count() == count


def test_the_same_name_is_fine_in_another_network(tenant, other_tenant, staff_api):
    response = staff_api.post("/api/v1/merchants/", {"name": other_tenant.merchant.name, "owner_email": "a@b.example"},
                              format="json")
    assert response.status_code == 201


def test_staff_list_only_their_networks_merchants(tenant, other_tenant, staff_api, django_assert_num_queries):
    for _ in range(3):
        factories.MerchantFactory(network=tenant.network)
    with django_assert_num_queries(5):
        response = staff_api.get("/api/v1/merchants/")
    assert response.json()["count"] == 4
    assert other_tenant.merchant.pk not in [row["id"] for row in response.json()["results"]]
    assert staff_api.get(f"/api/v1/merchants/{other_tenant.merchant.pk}/").status_code == 404


def test_approve_and_suspend(tenant, staff_api):
    pending = factories.MerchantFactory(network=tenant.network, status="pending")
    response = staff_api.post(f"/api/v1/merchants/{pending.pk}/approve/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    program = factories.ProgramFactory(merchant=pending)
    response = staff_api.post(f"/api/v1/merchants/{pending.pk}/suspend/", {"reason": "fraud"}, format="json")
    assert response.json()["status"] == "suspended"
    pending.refresh_from_db()
    assert pending.status == "suspended"
    program.refresh_from_db()
    assert program.cache_version == 2
    response = staff_api.post(f"/api/v1/merchants/{pending.pk}/approve/", {}, format="json")
    assert response.json()["status"] == "active"
    # A suspended merchant cannot go back to pending; nothing changes.
    from merchants import services

    with pytest.raises(Exception, match="cannot become pending"):
        services.change_merchant_status(network=tenant.network, merchant_id=pending.pk, to_status="pending",
                                        actor=None)
    pending.refresh_from_db()
    assert pending.status == "active"


def test_outsiders_cannot_act_on_merchants(tenant, other_tenant, merchant_api, affiliate_api):
    pending = factories.MerchantFactory(network=tenant.network, status="pending")
    other_staff = other_tenant.client_for("staff")
    assert other_staff.post(f"/api/v1/merchants/{pending.pk}/approve/", {}, format="json").status_code == 404
    assert merchant_api.get("/api/v1/merchants/").status_code == 403
    assert affiliate_api.post("/api/v1/merchants/", {"name": "Y", "owner_email": "y@y.example"},
                              format="json").status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert not Merchant.objects.filter(name="Y").exists()
