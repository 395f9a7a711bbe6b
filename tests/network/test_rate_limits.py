"""Per-key rate limits: 429 with Retry-After and the one error body; atomic under 200 concurrent requests."""

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from network.api import throttling
from network.models import ApiKey

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def hammer(total: int, *, limit_key_prefix: str) -> tuple[int, int]:
    """`total` requests released at once by a barrier against one key; (allowed, refused)."""
    throttle = throttling.ApiKeyRateThrottle()
    request = APIRequestFactory().get("/api/v1/me/")
    request.auth = ApiKey(prefix=limit_key_prefix)
    barrier = threading.Barrier(total)
    now = 1_800_000_010.0  # fixed: every thread counts in the same window

    def one(_: int) -> bool:
        barrier.wait()
        try:
            return throttle.allow_request(request, None, now=now)
        except throttling.RateLimited:
            return False

    with ThreadPoolExecutor(max_workers=total) as pool:
        results = list(pool.map(one, range(total)))
    return results.count(True), results.count(False)


@pytest.mark.skipif(not redis_reachable(), reason=f"Redis is not reachable at {REDIS_URL} (set REDIS_TEST_URL)")
def test_200_concurrent_requests_against_a_limit_of_100_let_exactly_100_through_on_redis(settings, monkeypatch):
    settings.API_RATE_LIMIT_PER_MINUTE = 100
    settings.API_RATE_LIMIT_REDIS_URL = REDIS_URL

    def no_fallback(key: str, ttl: int) -> int:
        raise AssertionError("the Redis counter must be used, not the cache fallback")

    monkeypatch.setattr(throttling, "increment_cache", no_fallback)
    allowed, refused = hammer(200, limit_key_prefix=f"test-{uuid.uuid4().hex}")
    assert (allowed, refused) == (100, 100)


def test_the_cache_fallback_counts_exactly_under_concurrency(settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 100
    settings.API_RATE_LIMIT_REDIS_URL = ""  # no Redis: Django's cache (locmem in tests) with add + incr
    allowed, refused = hammer(200, limit_key_prefix=f"test-{uuid.uuid4().hex}")
    assert (allowed, refused) == (100, 100)


def test_an_unreachable_redis_falls_back_to_the_cache(settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    settings.API_RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    allowed, refused = hammer(5, limit_key_prefix=f"test-{uuid.uuid4().hex}")
    assert (allowed, refused) == (3, 2)


def test_retry_after_is_the_rest_of_the_window(settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    settings.API_RATE_LIMIT_REDIS_URL = ""
    throttle = throttling.ApiKeyRateThrottle()
    request = APIRequestFactory().get("/")
    request.auth = ApiKey(prefix="retry-after")
    window_start = 1_800_000_000.0  # a multiple of 60
    assert throttle.allow_request(request, None, now=window_start + 15) is True
    with pytest.raises(throttling.RateLimited) as refused:
        throttle.allow_request(request, None, now=window_start + 15.5)
    assert refused.value.wait == 45
    assert isinstance(refused.value, exceptions.Throttled)
    # The next window starts fresh.
    assert throttle.allow_request(request, None, now=window_start + 60) is True


@pytest.mark.django_db
def test_the_api_answers_429_with_retry_after_and_the_error_body(settings, tenant, other_tenant):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    settings.API_RATE_LIMIT_REDIS_URL = ""
    cache.clear()
    client = tenant.client_for("staff")
    assert [client.get("/api/v1/me/").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/me/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    body = response.json()
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["fields"] == {}
    assert body["error"]["message"].startswith("Too many requests for this API key.")
    # Limits are per key: another key (another network's) is unaffected.
    assert other_tenant.client_for("staff").get("/api/v1/me/").status_code == 200


def test_the_limit_comes_from_settings_or_the_environment(settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 42
    assert throttling.limit_per_minute() == 42
    del settings.API_RATE_LIMIT_PER_MINUTE
    assert throttling.limit_per_minute() == throttling.DEFAULT_LIMIT_PER_MINUTE
