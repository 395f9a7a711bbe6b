"""Which network a request is for: from its host, or (on the bare base domain) from the user's roles."""

from django.conf import settings
from django.http import HttpRequest

from network import actors
from network.models import Domain, Network

SESSION_NETWORK_KEY = "network_id"


def network_from_host(host: str) -> Network | None:
    """A registered custom domain, or `<slug>.<BASE_DOMAIN>`; None for the bare base domain."""
    host = host.split(":", 1)[0].lower().rstrip(".")
    domain = Domain.objects.select_related("network").filter(host=host).first()
    if domain is not None:
        return domain.network
    base = settings.BASE_DOMAIN.lower()
    if host.endswith(f".{base}"):
        slug = host[: -len(base) - 1]
        if "." not in slug:
            return Network.objects.filter(slug=slug).first()
    return None


def resolve_network(request: HttpRequest) -> Network | None:
    """The request's network: host first; otherwise the one chosen in the session, or the user's first."""
    network = network_from_host(request.get_host())
    if network is not None:
        return network
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    mine = actors.networks_for_user(user)
    chosen = request.session.get(SESSION_NETWORK_KEY) if hasattr(request, "session") else None
    for candidate in mine:
        if candidate.pk == chosen:
            return candidate
    return mine[0] if mine else None
