"""Deep-link safety: is a URL on a program's allowed domains?

Every redirect and every deep link goes through `allowed_destination`; it parses like a browser
would (WHATWG-style leniency about backslashes, tabs and userinfo) and answers no unless the
result is plainly an http(s) URL whose host is on the allow-list.

Allow-list entries: "shop.example.com" allows exactly that host; "*.example.com" allows
example.com and every subdomain of it. Hosts compare in their IDNA (punycode) form, so a
look-alike Unicode host never matches an ASCII entry.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_STRIP_CHARS = "\t\n\r"


def normalise_host(host: str) -> str | None:
    """The lowercase IDNA form of a host name, or None if it is not a plain DNS name."""
    host = host.strip().rstrip(".").lower()
    if not host or len(host) > 253:
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        return None
    return ascii_host


def validate_allowed_domains(entries: list[str]) -> list[str]:
    """Normalise an allow-list; raise ValidationError naming the first bad entry."""
    if not isinstance(entries, list):
        raise ValidationError("Give a list of domain names.")
    cleaned: list[str] = []
    for entry in entries:
        if not isinstance(entry, str):
            raise ValidationError(f"{entry!r} is not a domain name.")
        wildcard = entry.strip().startswith("*.")
        host = normalise_host(entry.strip()[2:] if wildcard else entry)
        if host is None:
            raise ValidationError(f"{entry!r} is not a domain name (use example.com or *.example.com).")
        value = f"*.{host}" if wildcard else host
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def host_is_allowed(host: str, allowed_domains: list[str]) -> bool:
    """True when the (already normalised) host matches an entry of the allow-list."""
    for entry in allowed_domains:
        if entry.startswith("*."):
            base = entry[2:]
            if host == base or host.endswith("." + base):
                return True
        elif host == entry:
            return True
    return False


def allowed_destination(url: str, allowed_domains: list[str]) -> str | None:
    """The URL, normalised, when it is http(s) on an allowed host; otherwise None."""
    if not isinstance(url, str):
        return None
    # Browsers drop tabs and newlines anywhere and treat backslashes as slashes in http(s) URLs.
    candidate = "".join(ch for ch in url.strip() if ch not in _STRIP_CHARS).replace("\\", "/")
    if not candidate or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate):
        return None
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # Userinfo ("https://shop.example.com@evil.test") is how look-alike redirects hide the real host.
    if "@" in parts.netloc or parts.username or parts.password:
        return None
    if "%" in parts.netloc:
        return None
    host = normalise_host(parts.hostname or "")
    if host is None or not host_is_allowed(host, allowed_domains):
        return None
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, parts.fragment))


def program_destination(requested: str | None, *, default: str, allowed_domains: list[str]) -> str:
    """Where a click goes: the requested deep link when allowed, else the default (the landing URL)."""
    if requested:
        allowed = allowed_destination(requested, allowed_domains)
        if allowed is not None:
            return allowed
    return default
