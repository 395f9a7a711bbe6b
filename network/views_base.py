"""Fail-closed bases for every tenant page: resolve the network and the actor of the page's area.

A page in /console/ needs a staff role, /merchant/ a merchant membership, /portal/ an affiliate
membership, in the network of the request. Anyone else gets a 404 (or the login page).
"""

from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views import View

from network import actors, tenancy
from network.actors import Actor
from network.models import Network
from network.scoping import scope_for_actor

SESSION_ACTOR_KEY = "actor_ids"


def user_has_mfa(user: Any) -> bool:
    """True when the user has a TOTP authenticator."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


class AreaView(LoginRequiredMixin, View):
    """Base of every tenant page; subclasses set `area` to staff, merchant or affiliate."""

    area: ClassVar[str]
    # When set, only these roles of the area may open the page (e.g. merchant admins for writes).
    allowed_roles: ClassVar[frozenset[str] | None] = None
    merchant_field: ClassVar[str | None] = None
    affiliate_field: ClassVar[str | None] = None
    network: Network
    actor: Actor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__} may not override get_queryset; override scoped_queryset instead")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        network = tenancy.resolve_network(request)
        if network is None:
            raise Http404("No network here.")
        candidates = actors.actors_for(network, request.user, kind=self.area)
        if self.allowed_roles is not None:
            candidates = [actor for actor in candidates if actor.role in self.allowed_roles]
        if not candidates:
            raise Http404("Nothing here for you.")
        chosen = request.session.get(SESSION_ACTOR_KEY, {}).get(f"{network.pk}:{self.area}")
        actor = next((a for a in candidates if a.actor_id == chosen), candidates[0])
        self.network, self.actor = network, actor
        request.network, request.actor = network, actor  # type: ignore[attr-defined]
        if actor.is_staff and network.require_staff_2fa and not user_has_mfa(request.user):
            # The network requires a second factor for staff: set one up first (allauth's TOTP activation).
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet:
        model_queryset = self.scoped_queryset()
        return scope_for_actor(model_queryset, self.actor, merchant_field=self.merchant_field,
                               affiliate_field=self.affiliate_field)

    def scoped_queryset(self) -> QuerySet:
        """The base queryset of a list or detail page, before scoping; pages without one raise."""
        model = getattr(self, "model", None)
        if model is None:
            raise NotImplementedError(f"{type(self).__name__} has no model")
        return model.objects.all()


class StaffView(AreaView):
    """A network console page."""

    area = actors.STAFF


class MerchantView(AreaView):
    """A merchant dashboard page."""

    area = actors.MERCHANT


class AffiliateView(AreaView):
    """An affiliate portal page."""

    area = actors.AFFILIATE
