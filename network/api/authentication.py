"""`Authorization: Bearer <api key>` authentication, with a short in-process cache of verified keys.

Verifying a key costs a query (key + network + user) and a hash; an integration posting conversions
pays it on every request. A verified key is therefore remembered per process for
API_KEY_CACHE_SECONDS (default 5 s) keyed by the *full token's* hash, so only the exact secret that
was verified hits the cache. Consequence, documented in docs/tracking.md: a revoked key (or a
deactivated user) is refused by every process within API_KEY_CACHE_SECONDS, not instantly. Set
API_KEY_CACHE_SECONDS=0 to verify every request. Tests run with the cache off unless they enable it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from network import services
from network.env import env_int
from network.models import ApiKey

if TYPE_CHECKING:
    from network.actors import Actor

# last_used_at is refreshed at most this often, so a busy key does not write on every request.
LAST_USED_RESOLUTION_SECONDS = 60
DEFAULT_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 5)
MAX_CACHED_KEYS = 10_000

_verified: dict[str, tuple[float, ApiKey]] = {}
_verified_lock = threading.Lock()


def cache_seconds() -> int:
    """How long a verified key is trusted without a query (0 in tests unless settings enable it)."""
    if getattr(settings, "TESTING", False):
        return int(getattr(settings, "API_KEY_CACHE_SECONDS", 0))
    return int(getattr(settings, "API_KEY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))


def forget_verified_keys() -> None:
    """Drop every cached verification of this process (tests; after a revocation to take effect at once here)."""
    with _verified_lock:
        _verified.clear()


def cached_actor(api_key: ApiKey) -> Actor | None:
    """The actor resolved earlier for this verified key instance (None when not resolved yet).

    The actor rides on the cached ApiKey instance, so it lives exactly as long as the key's cache entry
    (API_KEY_CACHE_SECONDS): a removed membership stops the key within the same TTL as a revocation.
    With the cache off every request verifies a fresh instance, so nothing is remembered.
    """
    return getattr(api_key, "_resolved_actor", None)


def remember_actor(api_key: ApiKey, actor: Actor) -> None:
    """Keep the actor a key resolved to with the key's cached verification (see cached_actor)."""
    api_key._resolved_actor = actor  # type: ignore[attr-defined]


def _verify(token: str) -> ApiKey | None:
    ttl = cache_seconds()
    if ttl <= 0:
        return services.check_api_key(token=token)
    digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
    now = time.monotonic()
    found = _verified.get(digest)
    if found is not None and found[0] > now:
        return found[1]
    api_key = services.check_api_key(token=token)
    if api_key is not None:
        with _verified_lock:
            if len(_verified) >= MAX_CACHED_KEYS:
                _verified.clear()
            _verified[digest] = (now + ttl, api_key)
    return api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Look up the key by its public prefix and compare the secret's hash in constant time."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[object, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, token = header.partition(" ")
        if keyword != self.keyword:
            return None
        api_key = _verify(token.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is unknown or revoked.")
        now = timezone.now()
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now  # the cached instance too, so the next requests do not write again
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
