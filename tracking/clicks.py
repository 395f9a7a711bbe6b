"""The click hot path's helpers: the link cache, the duplicate screen, visitor fingerprints, metrics.

Link cache: in-process (per worker), keyed by code, holding plain values (no model instances). Each
entry remembers its program's `cache_version`; at most every VERSION_CHECK_SECONDS one query reads
the current versions of all programs with cached links, and drops the entries whose program moved
(every program-, merchant- and enrollment-changing service bumps the version). So a pause, a new
allow-list or landing URL reaches every click within VERSION_CHECK_SECONDS, and a warm click costs
no query and no cache round trip for the link. A link's own change (deactivated, new destination) is
seen within LINK_CACHE_SECONDS, or at once in this process after `forget_link(code)`. Unknown codes
are remembered as missing for MISSING_CACHE_SECONDS (bounded, so a scan of random codes cannot grow
memory without limit).

Duplicate screen: no Redis round trip in the request at all: the group-commit writer claims the
visitor+link keys of a whole batch in one pipelined round trip (`SET key id NX EX GET`) just before
its COPY (claim_first_clicks); the synchronous path claims one key with `cache.add`. When the cache is down, an
in-process table takes over: duplicates are then detected per worker only (a visitor whose two clicks
land on two workers is counted unique twice) — a documented, bounded loss of precision, never an error.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import iptocc
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from affiliates import selectors
from affiliates.models import TrackingLink
from merchants import domains
from merchants.models import Program

logger = logging.getLogger("tracking")

LINK_CACHE_SECONDS = 60
VERSION_CHECK_SECONDS = 2
MISSING_CACHE_SECONDS = 30
MAX_CACHED_LINKS = 50_000
MAX_LOCAL_DUPLICATE_KEYS = 100_000
PAID_CLICK_PARAMS = ("gclid", "gbraid", "wbraid", "msclkid", "fbclid", "dclid", "ttclid", "twclid", "li_fat_id")
SUB_PARAMS = ("sub1", "sub2", "sub3", "sub4", "sub5")

# code -> (expires_at monotonic, entry or None for "missing")
_links: OrderedDict[str, tuple[float, dict[str, Any] | None]] = OrderedDict()
_links_lock = threading.Lock()
_versions_checked_at = 0.0


def _program_version(program: Program) -> int:
    # Defensive: older schemas had no cache_version; then every entry counts as version 1.
    return int(getattr(program, "cache_version", 1) or 1)


def build_link_entry(code: str) -> dict[str, Any] | None:
    """Everything the click path needs about a link, as plain values (None when the code is unknown)."""
    link = (TrackingLink.objects.select_related("program", "enrollment").filter(code=code).first())
    if link is None:
        return None
    program = link.program
    allowed = list(program.allowed_domains or [])
    default = domains.allowed_destination(link.destination_url, allowed) if link.destination_url else None
    return {
        "link_id": link.pk, "network_id": link.network_id, "program_id": program.pk,
        "affiliate_id": link.affiliate_id, "version": _program_version(program),
        # The affiliates app's one rule (active link, approved enrollment, current terms accepted), plus a
        # live program: an affiliate who has not accepted new terms sends visitors to the landing page.
        "active": bool(program.status == Program.Status.ACTIVE and selectors.link_is_usable(link)),
        "landing_url": program.landing_url, "default_destination": default or program.landing_url,
        "allowed_domains": allowed, "click_param": program.click_param or "aff_click",
        "cookie_seconds": int(program.cookie_window_days) * 86400,
        "duplicate_seconds": int(program.duplicate_click_window_seconds),
        "first_click": program.attribution == Program.Attribution.FIRST_CLICK,
        "subs": [link.sub1, link.sub2, link.sub3, link.sub4, link.sub5],
    }


def _store(code: str, entry: dict[str, Any] | None, now: float) -> None:
    ttl = LINK_CACHE_SECONDS if entry is not None else MISSING_CACHE_SECONDS
    with _links_lock:
        _links[code] = (now + ttl, entry)
        _links.move_to_end(code)
        while len(_links) > MAX_CACHED_LINKS:
            _links.popitem(last=False)


def _check_versions(now: float) -> None:
    """One query for the current cache_version of every program with cached links; drop the stale entries."""
    global _versions_checked_at
    with _links_lock:
        if now - _versions_checked_at < VERSION_CHECK_SECONDS:
            return
        _versions_checked_at = now
        cached = {code: entry for code, (_, entry) in _links.items() if entry is not None}
    if not cached:
        return
    program_ids = {entry["program_id"] for entry in cached.values()}
    current = dict(Program.objects.filter(pk__in=program_ids).values_list("pk", "cache_version"))
    stale = [code for code, entry in cached.items() if current.get(entry["program_id"]) != entry["version"]]
    if stale:
        with _links_lock:
            for code in stale:
                _links.pop(code, None)


def resolve_link(code: str) -> dict[str, Any] | None:
    """The link entry for a code from the in-process cache, rebuilt when stale or its program's version moved."""
    now = time.monotonic()
    if now - _versions_checked_at >= VERSION_CHECK_SECONDS:
        _check_versions(now)
    cached = _links.get(code)
    if cached is not None and cached[0] > now:
        return cached[1]
    entry = build_link_entry(code)
    _store(code, entry, now)
    return entry


def forget_link(code: str) -> None:
    """Drop a link's cache entry in this process (after the link itself changed)."""
    with _links_lock:
        _links.pop(code, None)


def forget_program(program_id: int) -> None:
    """Force the next click of any of the program's links in this process to re-read the program."""
    with _links_lock:
        for code in [code for code, (_, entry) in _links.items() if entry and entry["program_id"] == program_id]:
            _links.pop(code, None)


def clear_link_cache() -> None:
    """Forget every cached link of this process (tests)."""
    global _versions_checked_at
    with _links_lock:
        _links.clear()
        _versions_checked_at = 0.0


# Fallback duplicate table when the shared cache is unreachable: key -> (expires_at monotonic, click id).
_local_duplicates: OrderedDict[str, tuple[float, str]] = OrderedDict()
_local_duplicates_lock = threading.Lock()


def _claim_locally(key: str, click_id: str, seconds: int) -> str | None:
    now = time.monotonic()
    with _local_duplicates_lock:
        found = _local_duplicates.get(key)
        if found is not None and found[0] > now:
            return found[1]
        _local_duplicates[key] = (now + seconds, click_id)
        _local_duplicates.move_to_end(key)
        while len(_local_duplicates) > MAX_LOCAL_DUPLICATE_KEYS:
            _local_duplicates.popitem(last=False)
    return None


def claim_first_click(*, link_id: int, visitor: str, click_id: str, seconds: int) -> str | None:
    """Mark this visitor's click on the link; None when it is the first in the window, else the first click's id."""
    return claim_first_clicks([(duplicate_key(link_id, visitor), click_id, seconds)])[0]


def duplicate_key(link_id: int, visitor: str) -> str:
    """The cache key that remembers a visitor's first click on a link."""
    return f"trk:dup:{link_id}:{visitor}"


def _redis_client() -> Any:
    """The raw Redis client behind Django's cache, or None when the cache is not Redis."""
    backend = getattr(cache, "_cache", None)
    if type(cache).__name__ != "RedisCache" or backend is None:
        return None
    return backend.get_client(write=True)


def claim_first_clicks(claims: list[tuple[str, str, int]]) -> list[str | None]:
    """claim_first_click for a batch (key, click id, seconds): one pipelined Redis round trip for all.

    `SET key id NX EX seconds GET` (Redis ≥ 7) sets the key when absent and returns the previous value,
    so each answer is None for a first click, else the first click's id. Without Redis each claim is
    made through Django's cache; when the cache is down, the in-process table decides.
    """
    if not claims:
        return []
    try:
        client = _redis_client()
        if client is not None:
            pipeline = client.pipeline(transaction=False)
            for key, click_id, seconds in claims:
                pipeline.set(cache.make_and_validate_key(key), click_id, nx=True, ex=max(1, seconds), get=True)
            return [value.decode() if isinstance(value, bytes) else value for value in pipeline.execute()]
    except Exception:  # the cache is down: detect duplicates per process rather than fail the clicks
        logger.warning("duplicate-click cache unavailable; using the in-process table", exc_info=True)
        return [_claim_locally(key, click_id, seconds) for key, click_id, seconds in claims]
    return [_claim_one(key, click_id, seconds) for key, click_id, seconds in claims]


def _claim_one(key: str, click_id: str, seconds: int) -> str | None:
    try:
        if cache.add(key, click_id, seconds):
            return None
        original = cache.get(key)
        return str(original) if original else None  # expired between the two calls: first again
    except Exception:
        logger.warning("duplicate-click cache unavailable; using the in-process table", exc_info=True)
        return _claim_locally(key, click_id, seconds)


def release_first_click(*, key: str, click_id: str) -> None:
    """Undo a claim when the click could not be stored, so no later click carries a lost id."""
    with _local_duplicates_lock:
        found = _local_duplicates.get(key)
        if found is not None and found[1] == click_id:
            del _local_duplicates[key]
    try:
        client = _redis_client()
        if client is not None:
            raw_key = cache.make_and_validate_key(key)
            if client.get(raw_key) in (click_id, click_id.encode()):
                client.delete(raw_key)
        elif cache.get(key) == click_id:
            cache.delete(key)
    except Exception:  # best effort; the entry expires with the window anyway
        logger.warning("could not release the duplicate-click key", exc_info=True)


def client_ip(request: HttpRequest) -> str:
    """The visitor's address: REMOTE_ADDR, or the first X-Forwarded-For hop behind a trusted proxy."""
    if getattr(settings, "TRACKING_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or ""


def _digest(value: str) -> str:
    salt = str(getattr(settings, "IP_HASH_SALT", "") or settings.SECRET_KEY).encode()
    return hmac.new(salt, value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


def hash_ip(ip: str) -> str:
    """HMAC of the address with IP_HASH_SALT: comparable, not reversible without the salt."""
    return _digest(f"ip:{ip}") if ip else ""


def visitor_hash(ip: str, user_agent: str) -> str:
    """One visitor, approximately: the same address and the same browser."""
    return _digest(f"visitor:{ip}|{user_agent}") if ip or user_agent else ""


@lru_cache(maxsize=1024)
def country_for_ip(ip: str) -> str:
    """ISO country of an address from the offline database bundled with `iptocc` ("" when unknown)."""
    if not ip:
        return ""
    try:
        return (iptocc.country_code(ip) or "")[:2].upper()
    except (ValueError, TypeError):
        return ""


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """True for crawler and bot user agents (the maintained crawler-user-agents list) and empty ones."""
    if not user_agent.strip():
        return True
    import crawleruseragents  # imported lazily: it compiles ~600 patterns on first use

    return bool(crawleruseragents.is_crawler(user_agent))


_TABLET = re.compile(r"iPad|Tablet|PlayBook|Silk|Kindle|(Android(?!.*Mobile))", re.IGNORECASE)
_MOBILE = re.compile(r"Mobi|iPhone|iPod|Android|Windows Phone|Opera Mini|IEMobile", re.IGNORECASE)
_DESKTOP = re.compile(r"Windows NT|Macintosh|X11|Linux x86_64|CrOS", re.IGNORECASE)


@lru_cache(maxsize=4096)
def device_class(user_agent: str) -> str:
    """desktop, mobile, tablet or other, from the user agent."""
    if _TABLET.search(user_agent):
        return "tablet"
    if _MOBILE.search(user_agent):
        return "mobile"
    if _DESKTOP.search(user_agent):
        return "desktop"
    return "other"


def is_prefetch(request: HttpRequest) -> bool:
    """Browser prefetch/prerender and link previews are not visits."""
    purpose = (request.META.get("HTTP_SEC_PURPOSE", "") + request.META.get("HTTP_PURPOSE", "")
               + request.META.get("HTTP_X_PURPOSE", "") + request.META.get("HTTP_X_MOZ", "")).lower()
    return "prefetch" in purpose or "prerender" in purpose or "preview" in purpose


def with_param(url: str, name: str, value: str) -> str:
    """The URL with `name=value` set in its query (replacing an existing value), fragment kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def increment_metric(name: str, *, detail: str = "") -> None:
    """Count an event in the cache (shared by every process) and always log it, so a dead cache loses no trace."""
    logger.warning("metric %s +1 %s", name, detail)
    key = f"metric:{name}"
    try:
        if cache.add(key, 1, timeout=None):
            return
        cache.incr(key)
    except Exception:  # the cache itself may be what is down; the log line above remains
        logger.exception("metric %s could not be stored in the cache", name)


def read_metric(name: str) -> int:
    """The current value of a counter kept by increment_metric (0 when unknown)."""
    try:
        return int(cache.get(f"metric:{name}") or 0)
    except Exception:
        return 0
