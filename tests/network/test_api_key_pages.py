"""API-key pages: the console sees every key; each role manages its own; a new key is shown once."""

import pytest
from django.test import Client

from network import services
from network.models import ApiKey, Membership
from tests import factories

HOST = {"HTTP_HOST": "acme.localhost"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_console_lists_every_key_of_the_network_only(tenant, other_tenant, django_assert_max_num_queries):
    factories.api_key_for(network=tenant.network, user=tenant.merchant_user, kind="merchant",
                          actor_id=tenant.merchant.pk)
    factories.api_key_for(network=tenant.network, user=tenant.owner, kind="staff")
    factories.api_key_for(network=other_tenant.network, user=other_tenant.owner, kind="staff")
    client = client_for(tenant.owner)
    # Session, user, host, actor, the keys with their users, the user box's role switcher: not one per key.
    with django_assert_max_num_queries(14):
        response = client.get("/console/api-keys/", **HOST)
    keys = [key for key, _ in response.context["keys"]]
    assert sorted(key.user.email for key in keys) == sorted([tenant.merchant_user.email, tenant.owner.email])
    assert all(can_revoke for _, can_revoke in response.context["keys"])


def test_creating_a_key_shows_it_once(tenant):
    client = client_for(tenant.owner)
    response = client.post("/console/api-keys/", {"name": "backend", "access": "all"}, **HOST)
    assert response.status_code == 200
    key = response.context["new_key"]
    api_key = ApiKey.objects.get(network=tenant.network, name="backend")
    assert key.startswith(f"sk_{api_key.prefix}_")
    assert key.encode() in response.content
    assert (api_key.user, api_key.actor_kind, api_key.actor_id, api_key.scopes) == (tenant.owner, "staff", None, [])
    assert services.check_api_key(token=key) == api_key
    assert key.encode() not in client.get("/console/api-keys/", **HOST).content
    assert key.split("_")[2] not in api_key.secret_hash


@pytest.mark.parametrize(("data", "scopes"), [
    ({"access": "read"}, ["read"]),
    ({"access": "custom", "capabilities": ["conversions:write", "programs:read"]}, ["conversions:write",
                                                                                    "programs:read"]),
])
def test_key_scopes(tenant, data, scopes):
    response = client_for(tenant.merchant_user).post("/merchant/api-keys/", {"name": "k", **data}, **HOST)
    assert response.status_code == 200
    api_key = ApiKey.objects.get(network=tenant.network, name="k")
    assert (api_key.scopes, api_key.actor_kind, api_key.actor_id) == (scopes, "merchant", tenant.merchant.pk)


def test_a_read_only_key_cannot_write(tenant):
    response = client_for(tenant.owner).post("/console/api-keys/", {"name": "ro", "access": "read"}, **HOST)
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.context['new_key']}")
    assert api.get("/api/v1/api-keys/").status_code == 200
    assert api.post("/api/v1/api-keys/", {"name": "x"}, format="json").status_code == 403
    assert ApiKey.objects.filter(network=tenant.network).count() == 1


@pytest.mark.parametrize(("data", "field"), [({"access": "custom"}, "capabilities"),
                                             ({"access": "custom", "capabilities": ["root:write"]}, "capabilities"),
                                             ({"access": "everything"}, "access")])
def test_bad_key_requests_name_the_field_and_create_nothing(tenant, data, field):
    response = client_for(tenant.owner).post("/console/api-keys/", data, **HOST)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_merchant_and_affiliate_pages_show_only_their_own_keys(tenant, other_tenant):
    other_member = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    factories.api_key_for(network=tenant.network, user=tenant.merchant_user, kind="merchant",
                          actor_id=tenant.merchant.pk)
    factories.api_key_for(network=tenant.network, user=other_member.user, kind="merchant",
                          actor_id=other_member.merchant.pk)
    factories.api_key_for(network=tenant.network, user=tenant.owner, kind="staff")
    factories.api_key_for(network=tenant.network, user=tenant.affiliate_user, kind="affiliate",
                          actor_id=tenant.affiliate.pk)
    merchant_keys = client_for(tenant.merchant_user).get("/merchant/api-keys/", **HOST).context["keys"]
    assert [(key.user, key.actor_kind) for key, _ in merchant_keys] == [(tenant.merchant_user, "merchant")]
    affiliate_keys = client_for(tenant.affiliate_user).get("/portal/api-keys/", **HOST).context["keys"]
    assert [(key.user, key.actor_kind) for key, _ in affiliate_keys] == [(tenant.affiliate_user, "affiliate")]


def test_area_pages_refuse_other_roles(tenant, other_tenant):
    assert client_for(tenant.affiliate_user).get("/merchant/api-keys/", **HOST).status_code == 404
    assert client_for(tenant.merchant_user).get("/portal/api-keys/", **HOST).status_code == 404
    assert client_for(other_tenant.merchant_user).get("/merchant/api-keys/", **HOST).status_code == 404
    assert client_for(tenant.merchant_user).post("/portal/api-keys/", {"access": "all"}, **HOST).status_code == 404
    assert not ApiKey.objects.exists()


def test_revoke_with_htmx_swaps_the_row(tenant):
    factories.api_key_for(network=tenant.network, user=tenant.merchant_user, kind="merchant",
                          actor_id=tenant.merchant.pk)
    api_key = ApiKey.objects.get()
    response = client_for(tenant.owner).post(f"/console/api-keys/{api_key.pk}/revoke/", HTTP_HX_REQUEST="true",
                                             **HOST)
    assert response.status_code == 200
    assert response.content.decode().startswith(f'<tr id="key-{api_key.pk}">')
    assert b"revoked" in response.content
    assert ApiKey.objects.get().revoked_at is not None


def test_a_merchant_revokes_its_own_key_but_not_others(tenant, other_tenant):
    factories.api_key_for(network=tenant.network, user=tenant.merchant_user, kind="merchant",
                          actor_id=tenant.merchant.pk)
    factories.api_key_for(network=tenant.network, user=tenant.owner, kind="staff")
    factories.api_key_for(network=other_tenant.network, user=other_tenant.merchant_user, kind="merchant",
                          actor_id=other_tenant.merchant.pk)
    own = ApiKey.objects.get(user=tenant.merchant_user)
    staff_key = ApiKey.objects.get(user=tenant.owner)
    rival_key = ApiKey.objects.get(user=other_tenant.merchant_user)
    client = client_for(tenant.merchant_user)
    assert client.post(f"/merchant/api-keys/{staff_key.pk}/revoke/", **HOST).status_code == 404
    assert client.post(f"/merchant/api-keys/{rival_key.pk}/revoke/", **HOST).status_code == 404
    assert client.post(f"/merchant/api-keys/{own.pk}/revoke/", **HOST).status_code == 302
    assert [key.revoked_at is not None for key in (own, staff_key, rival_key) if key.refresh_from_db() is None] == [
        True, False, False]


def test_a_manager_revokes_only_own_keys_in_the_console(tenant):
    manager = factories.MembershipFactory(network=tenant.network, role=Membership.Role.MANAGER).user
    factories.api_key_for(network=tenant.network, user=tenant.owner, kind="staff")
    owner_key = ApiKey.objects.get(user=tenant.owner)
    response = client_for(manager).post(f"/console/api-keys/{owner_key.pk}/revoke/", **HOST)
    assert response.status_code == 404
    assert ApiKey.objects.get(pk=owner_key.pk).revoked_at is None


def test_keys_redirects_to_the_area_of_the_role(tenant):
    assert client_for(tenant.owner).get("/keys/", **HOST)["Location"] == "/console/api-keys/"
    assert client_for(tenant.merchant_user).get("/keys/", **HOST)["Location"] == "/merchant/api-keys/"
    assert client_for(tenant.affiliate_user).get("/keys/", **HOST)["Location"] == "/portal/api-keys/"
    assert Client().get("/keys/")["Location"].startswith("/accounts/login/")


def test_keys_for_a_user_without_a_role_says_so(db):
    user = factories.UserFactory()
    response = client_for(user).get("/keys/")
    assert response.status_code == 200
    assert b"No role yet" in response.content
