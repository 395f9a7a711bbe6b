"""Per-API-key rate limits that hold under concurrency: one atomic counter per key and minute.

With Redis configured (CACHE_URL, or a redis:// CELERY_BROKER_URL, or API_RATE_LIMIT_REDIS_URL) the
counter is a Redis INCR + EXPIRE sent in one MULTI/EXEC, so every process and thread sees the same
count and no two requests can both take the last slot. Without Redis it falls back to Django's
cache: `cache.add` then `cache.incr`, atomic on the Redis and local-memory backends (the latter per
process only); the file-based and database caches implement incr as read-modify-write, so on them
the limit is approximate under concurrent requests (see docs/api.md, "Rate limits").

The window is fixed (calendar minute), so a client can send up to twice the limit across a window
boundary; that is the usual trade for one round trip per request.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from network.env import env_int
from network.models import ApiKey

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
DEFAULT_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 600)

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


class RateLimited(exceptions.Throttled):
    """429 with `Retry-After` and {"error": {"code": "rate_limited", …}}."""

    default_code = "rate_limited"
    default_detail = "Too many requests for this API key."
    extra_detail_singular = extra_detail_plural = "Retry in {wait} seconds."


def limit_per_minute() -> int:
    """Requests per key per minute (settings.API_RATE_LIMIT_PER_MINUTE, else the environment, else 600)."""
    return int(getattr(settings, "API_RATE_LIMIT_PER_MINUTE", DEFAULT_LIMIT_PER_MINUTE))


def redis_url() -> str:
    """The Redis the counters live in, or "" for the cache fallback."""
    explicit = getattr(settings, "API_RATE_LIMIT_REDIS_URL", None)
    if explicit is not None:
        return explicit
    for candidate in (getattr(settings, "CACHE_URL", ""), getattr(settings, "CELERY_BROKER_URL", "")):
        if candidate and candidate.startswith(("redis://", "rediss://")):
            return candidate
    return ""


def _redis_client(url: str) -> Any:
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            import redis

            # Short timeouts: a slow Redis must not stall the API; on error the cache fallback counts.
            client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            _clients[url] = client
        return client


def increment_redis(url: str, key: str, ttl: int) -> int:
    """INCR and EXPIRE in one transaction; the count after this request."""
    pipe = _redis_client(url).pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, ttl)
    count, _ = pipe.execute()
    return int(count)


def increment_cache(key: str, ttl: int) -> int:
    """cache.add (creates at 0 only if missing) then cache.incr; the count after this request."""
    cache.add(key, 0, timeout=ttl)
    try:
        return int(cache.incr(key))
    except ValueError:  # the key expired between add and incr: start the window again
        cache.add(key, 0, timeout=ttl)
        return int(cache.incr(key))


def increment(key: str, ttl: int) -> int:
    """Count one request against `key`, in Redis when configured, else in the cache."""
    url = redis_url()
    if url:
        try:
            return increment_redis(url, key, ttl)
        except Exception:  # Redis down: keep serving, counting in the cache, and say so loudly
            logger.warning("Rate-limit Redis at %s unavailable; counting in the cache", url, exc_info=True)
    return increment_cache(key, ttl)


class ApiKeyRateThrottle(BaseThrottle):
    """At most `limit_per_minute()` requests per API key (or per user for sessions, per IP otherwise)."""

    def identity(self, request: Request) -> str:
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.prefix}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{self.get_ident(request)}"

    def allow_request(self, request: Request, view: Any, now: float | None = None) -> bool:
        limit = limit_per_minute()
        if limit <= 0:
            return True
        now = time.time() if now is None else now
        window = int(now // WINDOW_SECONDS)
        key = f"ratelimit:{self.identity(request)}:{window}"
        count = increment(key, WINDOW_SECONDS + 5)
        if count > limit:
            wait = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
            raise RateLimited(wait=wait)
        return True

    def wait(self) -> float | None:
        return None
