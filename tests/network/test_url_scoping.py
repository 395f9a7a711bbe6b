"""Walk every URL pattern: each tenant page and endpoint must be built on the fail-closed bases."""

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

from network.api.base import NetworkScopedAPIView
from network.views_base import AreaView

# Paths that are public or tenant-less on purpose, with the reason.
PUBLIC_PREFIXES = (
    "accounts/",  # allauth: sign-up, login, MFA
    "admin/",  # superusers only, Django's own permission checks
    "i18n/",  # language switch
    "api/v1/schema/", "api/v1/docs/",  # the public OpenAPI schema and its docs
    "c/", "t/", "integrations/",  # tracking doors: link code, program token or signature, not a session
    "static/", "media/",
)
# keys/ only redirects to the API-key page of the user's area (those pages are scoped), like home/.
PUBLIC_EXACT = {"", "home/", "switch/", "join/", "invitations/<str:token>/", "keys/"}


def walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, object]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def view_class(callback: object) -> type | None:
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None)


def test_every_tenant_url_is_built_on_a_scoped_base():
    unscoped = []
    for route, callback in walk(get_resolver().url_patterns):
        route = route.lstrip("^")
        if route in PUBLIC_EXACT or route.startswith(PUBLIC_PREFIXES) or route.startswith("api/v1/^schema"):
            continue
        cls = view_class(callback)
        if cls is None or not issubclass(cls, NetworkScopedAPIView | AreaView):
            unscoped.append(route)
    assert unscoped == []


def test_the_walk_sees_the_tenant_urls():
    routes = {route for route, _ in walk(get_resolver().url_patterns)}
    assert "console/" in routes
    assert "api/v1/me/" in routes
