"""Pages of the tenancy app: the landing page, the role switch, the network console home."""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from network import actors, tenancy
from network.views_base import SESSION_ACTOR_KEY, StaffView

AREA_HOME = {actors.STAFF: "/console/", actors.MERCHANT: "/merchant/", actors.AFFILIATE: "/portal/"}


def landing(request: HttpRequest) -> HttpResponse:
    """The public front page of a network (or of the platform on the bare domain)."""
    network = tenancy.network_from_host(request.get_host())
    return render(request, "landing.html", {"landing_network": network})


class HomeView(LoginRequiredMixin, View):
    """After login: go to the area of the user's first role, or explain that there is none yet."""

    def get(self, request: HttpRequest) -> HttpResponse:
        network = tenancy.resolve_network(request)
        found = actors.actors_for(network, request.user) if network else []
        if found:
            return HttpResponseRedirect(AREA_HOME[found[0].kind])
        return render(request, "no_role.html", {"landing_network": network})


class SwitchView(LoginRequiredMixin, View):
    """Choose which network and which merchant or affiliate account the pages act as."""

    def post(self, request: HttpRequest) -> HttpResponse:
        network_id = request.POST.get("network")
        kind = request.POST.get("kind", "")
        actor_id = request.POST.get("actor")
        for network in actors.networks_for_user(request.user):
            if str(network.pk) != network_id:
                continue
            request.session[tenancy.SESSION_NETWORK_KEY] = network.pk
            for actor in actors.actors_for(network, request.user, kind=kind or None):
                if str(actor.actor_id) == str(actor_id) or (actor.is_staff and kind == actors.STAFF):
                    chosen = dict(request.session.get(SESSION_ACTOR_KEY, {}))
                    chosen[f"{network.pk}:{actor.kind}"] = actor.actor_id
                    request.session[SESSION_ACTOR_KEY] = chosen
                    return HttpResponseRedirect(AREA_HOME[actor.kind])
            return HttpResponseRedirect(reverse("home"))
        return HttpResponseRedirect(reverse("home"))


class ConsoleHomeView(StaffView, TemplateView):
    """The network console's front page."""

    template_name = "console/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["network"] = self.network
        return context
