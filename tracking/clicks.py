"""The click hot path's helpers: the link cache, visitor fingerprints, screening and metrics.

Nothing here touches the ORM on a warm cache; `resolve_link` reads two cache keys. The link entry
is keyed by code and remembers the program's `cache_version` it was built from; the current
version is cached per program for a few seconds, so a program change (pause, allow-list, landing
URL) reaches every click within PROGRAM_VERSION_SECONDS without anyone deleting keys.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import iptocc
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from affiliates.models import Enrollment, TrackingLink
from merchants import domains
from merchants.models import Program

logger = logging.getLogger("tracking")

LINK_CACHE_SECONDS = 60
PROGRAM_VERSION_SECONDS = 5
MISSING_CACHE_SECONDS = 30
PAID_CLICK_PARAMS = ("gclid", "gbraid", "wbraid", "msclkid", "fbclid", "dclid", "ttclid", "twclid", "li_fat_id")
SUB_PARAMS = ("sub1", "sub2", "sub3", "sub4", "sub5")
_MISSING = {"missing": True}


def _link_key(code: str) -> str:
    return f"trk:link:{code}"


def _version_key(program_id: int) -> str:
    return f"trk:pv:{program_id}"


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
        "active": bool(link.is_active and program.status == Program.Status.ACTIVE
                       and link.enrollment.status == Enrollment.Status.APPROVED),
        "landing_url": program.landing_url, "default_destination": default or program.landing_url,
        "allowed_domains": allowed, "click_param": program.click_param or "aff_click",
        "cookie_seconds": int(program.cookie_window_days) * 86400,
        "duplicate_seconds": int(program.duplicate_click_window_seconds),
        "first_click": program.attribution == Program.Attribution.FIRST_CLICK,
        "subs": [link.sub1, link.sub2, link.sub3, link.sub4, link.sub5],
    }


def resolve_link(code: str) -> dict[str, Any] | None:
    """The cached link entry for a code, rebuilt when its program's cache_version moved."""
    key = _link_key(code)
    entry = cache.get(key)
    if entry is _MISSING or entry == _MISSING:
        return None
    if entry is not None:
        version = cache.get(_version_key(entry["program_id"]))
        if version is None:
            version = (Program.objects.filter(pk=entry["program_id"]).values_list("cache_version", flat=True)
                       .first()) if hasattr(Program, "cache_version") else 1
            cache.set(_version_key(entry["program_id"]), version or 0, PROGRAM_VERSION_SECONDS)
        if version == entry["version"]:
            return entry
    entry = build_link_entry(code)
    if entry is None:
        cache.set(key, _MISSING, MISSING_CACHE_SECONDS)
        return None
    cache.set(key, entry, LINK_CACHE_SECONDS)
    cache.set(_version_key(entry["program_id"]), entry["version"], PROGRAM_VERSION_SECONDS)
    return entry


def forget_link(code: str) -> None:
    """Drop a link's cache entry (after the link itself changed)."""
    cache.delete(_link_key(code))


def forget_program(program_id: int) -> None:
    """Force the next click of any of the program's links to re-read the program."""
    cache.delete(_version_key(program_id))


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
