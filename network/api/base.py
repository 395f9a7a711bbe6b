"""Fail-closed bases for every tenant API view: resolve the network and actor, scope every queryset.

Subclasses may not override `get_queryset` (as in PostHog's routing); they declare which field
ties a row to a merchant and to an affiliate, and the base applies the one scoping rule.
"""

from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework import exceptions, viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from network import actors, tenancy
from network.actors import Actor
from network.api import authentication
from network.models import ApiKey, Network
from network.scoping import scope_for_actor


def resolve_api_actor(request: Request, *, preferred_kind: str | None = None) -> Actor:
    """The actor behind an API request: the key's, or for a browser session the user's role in the host's network."""
    if isinstance(request.auth, ApiKey):
        # Resolved once per cached key verification (same TTL), not on every request of a busy integration.
        actor = authentication.cached_actor(request.auth)
        if actor is None:
            actor = actors.actor_for_api_key(request.auth)
            if actor is None:
                raise exceptions.AuthenticationFailed("The API key's user no longer holds its role.")
            authentication.remember_actor(request.auth, actor)
        return actor
    user = request.user
    if not user or not user.is_authenticated:
        raise exceptions.NotAuthenticated()
    network = tenancy.resolve_network(request._request)
    if network is None:
        raise exceptions.NotFound("No network here.")
    found = actors.actors_for(network, user)
    if preferred_kind:
        found = [actor for actor in found if actor.kind == preferred_kind] or found
    if not found:
        raise exceptions.NotFound("No network here.")
    return found[0]


class NetworkScopedAPIView(APIView):
    """Base of every tenant API view: `self.network` and `self.actor` are set before the handler runs."""

    allowed_actor_kinds: ClassVar[frozenset[str]] = frozenset(actors.ACTOR_KINDS)
    # The scope an API key needs, e.g. "conversions"; reads need ":read", unsafe methods ":write".
    required_scope: ClassVar[str | None] = None
    network: Network
    actor: Actor

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.actor = resolve_api_actor(request, preferred_kind=self.preferred_kind())
        self.network = self.actor.network
        if self.actor.kind not in self.allowed_actor_kinds:
            raise exceptions.PermissionDenied(f"This endpoint is not available to a {self.actor.kind} key.")
        if self.required_scope:
            mode = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
            if not self.actor.has_scope(f"{self.required_scope}:{mode}"):
                raise exceptions.PermissionDenied(f"The API key lacks the scope {self.required_scope}:{mode}.")

    def preferred_kind(self) -> str | None:
        """For session-authenticated calls, which of the user's roles to act with when there are several."""
        if len(self.allowed_actor_kinds) == 1:
            return next(iter(self.allowed_actor_kinds))
        return None

    def require_network_manager(self) -> None:
        """Owners and admins only (e.g. changing network settings)."""
        if not self.actor.can_manage_network:
            raise exceptions.PermissionDenied("Only the network's owners and admins may do this.")


class NetworkScopedViewSet(NetworkScopedAPIView, viewsets.GenericViewSet):
    """A viewset whose queryset is always the network's, narrowed to the actor's own rows."""

    # Lookup paths from the model to the owning merchant's id and affiliate's id; None = that kind sees nothing.
    merchant_field: ClassVar[str | None] = None
    affiliate_field: ClassVar[str | None] = None
    staff_sees_all: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__} may not override get_queryset; override scoped_queryset instead")

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no actor
            return self.queryset.none()  # type: ignore[union-attr]
        base = self.scoped_queryset(self.queryset.all())  # type: ignore[union-attr]
        return scope_for_actor(base, self.actor, merchant_field=self.merchant_field,
                               affiliate_field=self.affiliate_field, staff_sees_all=self.staff_sees_all)

    def scoped_queryset(self, queryset: QuerySet) -> QuerySet:
        """Hook for extra narrowing (select_related, filters); scoping is applied after it, always."""
        return queryset
