import pytest
from rest_framework.test import APIClient

from network import services
from network.models import ApiKey


def test_me_reports_the_keys_actor(tenant, staff_api, merchant_api, affiliate_api):
    assert staff_api.get("/api/v1/me/").json() == {
        "network": "acme", "network_name": "Acme Network", "kind": "staff", "role": "owner",
        "email": tenant.owner.email, "merchant": None, "affiliate": None,
    }
    assert merchant_api.get("/api/v1/me/").json()["merchant"] == tenant.merchant.pk
    body = affiliate_api.get("/api/v1/me/").json()
    assert (body["kind"], body["affiliate"], body["role"]) == ("affiliate", tenant.affiliate.pk, "owner")


def test_only_the_hash_is_stored_and_a_wrong_secret_fails(tenant):
    api_key, key = services.create_api_key(network=tenant.network, user=tenant.owner, actor_kind="staff")
    _, prefix, secret = key.split("_", 2)
    assert api_key.prefix == prefix
    assert secret not in api_key.secret_hash
    assert services.check_api_key(token=key) == api_key
    assert services.check_api_key(token=f"sk_{prefix}_{secret}x") is None
    assert services.check_api_key(token="garbage") is None


def test_missing_and_bad_keys_get_401_in_the_error_format(db):
    assert APIClient().get("/api/v1/me/").status_code in (401, 403)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer sk_nope_nope")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "The API key is unknown or revoked."


def test_revoked_key_stops_working_and_revoking_twice_keeps_the_time(tenant, staff_api):
    created = staff_api.post("/api/v1/api-keys/", {"name": "ci"}, format="json")
    assert created.status_code == 201
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.json()['key']}")
    assert client.get("/api/v1/me/").status_code == 200
    key_id = created.json()["id"]
    first = staff_api.post(f"/api/v1/api-keys/{key_id}/revoke/").json()["revoked_at"]
    second = staff_api.post(f"/api/v1/api-keys/{key_id}/revoke/").json()["revoked_at"]
    assert first == second is not None
    assert client.get("/api/v1/me/").status_code == 401


def test_staff_create_a_key_that_acts_as_the_merchant(tenant, staff_api):
    response = staff_api.post("/api/v1/api-keys/", {"merchant": tenant.merchant.pk}, format="json")
    assert response.status_code == 201
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['key']}")
    me = client.get("/api/v1/me/").json()
    assert (me["kind"], me["merchant"], me["email"]) == ("merchant", tenant.merchant.pk, tenant.merchant_user.email)


def test_staff_cannot_mint_a_key_for_another_networks_merchant(tenant, other_tenant, staff_api):
    before = ApiKey.objects.count()
    response = staff_api.post("/api/v1/api-keys/", {"merchant": other_tenant.merchant.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"merchant": [f"No merchant {other_tenant.merchant.pk} in this network."]}
    assert ApiKey.objects.count() == before


def test_an_affiliate_cannot_mint_keys_for_a_merchant(tenant, affiliate_api):
    before = ApiKey.objects.count()
    response = affiliate_api.post("/api/v1/api-keys/", {"merchant": tenant.merchant.pk}, format="json")
    assert response.status_code == 403
    assert ApiKey.objects.count() == before


def test_keys_of_another_network_are_invisible(tenant, other_tenant, staff_api):
    foreign = other_tenant.client_for("staff")
    foreign_key = ApiKey.objects.for_network(other_tenant.network).first()
    assert staff_api.get(f"/api/v1/api-keys/{foreign_key.pk}/").status_code == 404
    assert staff_api.post(f"/api/v1/api-keys/{foreign_key.pk}/revoke/").status_code == 404
    foreign_key.refresh_from_db()
    assert foreign_key.revoked_at is None
    ids = {row["id"] for row in staff_api.get("/api/v1/api-keys/").json()["results"]}
    assert foreign_key.pk not in ids
    assert foreign.get("/api/v1/me/").json()["network"] == "rival"


def test_an_affiliate_sees_only_its_own_keys(tenant, other_tenant, affiliate_api, merchant_api):
    listed = affiliate_api.get("/api/v1/api-keys/").json()["results"]
    assert {(row["actor_kind"], row["actor_id"]) for row in listed} == {("affiliate", tenant.affiliate.pk)}


@pytest.mark.parametrize("scopes, method, allowed", [
    (["api_keys:read"], "get", True),
    (["api_keys:read"], "post", False),
    (["read"], "get", True),
    (["api_keys:write"], "post", True),
])
def test_key_scopes_gate_reads_and_writes(tenant, scopes, method, allowed):
    from tests.factories import api_key_for

    key = api_key_for(network=tenant.network, user=tenant.owner, kind="staff", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = getattr(client, method)("/api/v1/api-keys/", {}, format="json")
    assert (response.status_code < 400) is allowed
