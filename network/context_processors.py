"""Template context shared by every page: the network being shown and its branding."""

from typing import Any

from django.http import HttpRequest


def tenant(request: HttpRequest) -> dict[str, Any]:
    """`current_network` and `current_actor` when a page view resolved them."""
    return {
        "current_network": getattr(request, "network", None),
        "current_actor": getattr(request, "actor", None),
    }
