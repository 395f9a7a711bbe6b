"""Template context shared by every page: the network being shown, its branding, the role switcher."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from network import actors, tenancy


def role_choices_for(request: HttpRequest) -> list[dict[str, Any]]:
    """Every (network, role) the user holds, for the switcher in the user box; the current one marked."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    current = getattr(request, "actor", None)
    choices = []
    for network in actors.networks_for_user(user):
        for actor in actors.actors_for(network, user):
            choices.append({
                "value": f"{network.pk}:{actor.kind}:{actor.actor_id or ''}",
                "label": f"{network.display_name} · {actor.label} ({actor.role})"
                if actor.label != network.display_name else f"{network.display_name} ({actor.role})",
                "current": current is not None and current.network.pk == network.pk and current.kind == actor.kind
                and current.actor_id == actor.actor_id,
            })
    return choices


def tenant(request: HttpRequest) -> dict[str, Any]:
    """`current_network` (the page's, else the host's), `current_actor`, and a lazy `role_choices`."""
    network = getattr(request, "network", None)
    if network is None:
        network = tenancy.network_from_host(request.get_host())
    lazy_choices: Callable[[], list[dict[str, Any]]] = lambda: role_choices_for(request)  # noqa: E731
    return {
        "current_network": network,
        "current_actor": getattr(request, "actor", None),
        # A callable: templates call it only when the user box shows it, so other pages pay nothing.
        "role_choices": lazy_choices,
    }
