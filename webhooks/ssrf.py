"""Refuse webhook and postback targets that point inside our own network (SSRF).

Checked when a URL is saved and again right before each request, because DNS can change between
the two. The check resolves the host and refuses the request if ANY address it resolves to is not
a public unicast address. Residual risk (documented in docs/webhooks.md): the HTTP client resolves
the name again, so a resolver that answers differently within milliseconds could still slip by;
redirects are never followed, which closes the easier variant of that trick.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ALLOWED_SCHEMES = ("http", "https")


def private_targets_allowed() -> bool:
    """Local development may post to localhost; production (DEBUG off) never does unless told so."""
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", settings.DEBUG))


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host resolves to (a seam that tests replace; they have no DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_public_address(address: str) -> bool:
    """True only for a global unicast address (no loopback, private, link-local, multicast, reserved…)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    refused = (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
               or ip.is_unspecified or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local))
    # is_global also rules out shared address space (100.64.0.0/10) and other special-purpose blocks.
    return not refused and ip.is_global


def validate_target_url(url: str, *, field: str = "url") -> None:
    """Raise ValidationError({field: …}) unless the URL is http(s) to a public host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError({field: [_("Enter a valid URL.")]}) from None
    if parts.scheme not in ALLOWED_SCHEMES:
        raise ValidationError({field: [_("Only http:// and https:// URLs can receive notifications.")]})
    host = parts.hostname
    if not host:
        raise ValidationError({field: [_("The URL has no host.")]})
    if parts.username or parts.password:
        raise ValidationError({field: [_("Put credentials in the path or query, not before the host.")]})
    if private_targets_allowed():
        return
    try:
        addresses = [host] if _is_ip_literal(host) else resolve_host(host, port or (443 if parts.scheme == "https"
                                                                                    else 80))
    except (OSError, UnicodeError):
        raise ValidationError({field: [_("The host %(host)s cannot be resolved.") % {"host": host}]}) from None
    if not addresses or not all(is_public_address(address) for address in addresses):
        raise ValidationError({field: [_("The host %(host)s is not a public internet address.") % {"host": host}]})


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
