"""The in-process cache of verified API keys: fewer queries, and revocation honoured after the TTL."""

import pytest

from network import services as network_services
from network.api import authentication

pytestmark = pytest.mark.django_db


def test_cached_key_skips_the_lookup_and_revocation_is_honoured_after_a_clear(tenant, settings):
    settings.API_KEY_CACHE_SECONDS = 5
    authentication.forget_verified_keys()
    client = tenant.client_for("merchant")
    assert client.get("/api/v1/me/").status_code == 200
    token = client._credentials["HTTP_AUTHORIZATION"].split(" ", 1)[1]
    prefix = token.split("_", 2)[1]
    from network.models import ApiKey

    api_key = ApiKey.objects.get(prefix=prefix)
    network_services.revoke_api_key(network=tenant.network, api_key_id=api_key.pk, actor=None)
    # Within the TTL this process still trusts the verification it made (documented trade-off) …
    assert client.get("/api/v1/me/").status_code == 200
    # … and once the entry is gone (TTL passed, here: cleared) the revoked key is refused.
    authentication.forget_verified_keys()
    assert client.get("/api/v1/me/").status_code == 401
    settings.API_KEY_CACHE_SECONDS = 0
    authentication.forget_verified_keys()
