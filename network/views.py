"""Pages of the tenancy app: landing, role switch, console (home, staff, settings, domains, audit), API keys."""

from typing import Any, ClassVar
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import select_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView, TemplateView

from network import actors, forms, invitations, services, tenancy
from network.models import ApiKey, AuditEvent, Domain, Invitation, Membership
from network.views_base import SESSION_ACTOR_KEY, AffiliateView, AreaView, MerchantView, StaffView

SESSION_AREA_KEY = "area"
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
            # The area last chosen in the switcher, when the user still holds a role there.
            preferred = request.session.get(SESSION_AREA_KEY)
            actor = next((each for each in found if each.kind == preferred), found[0])
            return HttpResponseRedirect(AREA_HOME[actor.kind])
        return render(request, "no_role.html", {"landing_network": network})


class SwitchView(LoginRequiredMixin, View):
    """Choose which network and which role (staff, a merchant, an affiliate) the pages act as.

    Takes `choice=<network id>:<kind>:<merchant or affiliate id>` (the user box's switcher) or the
    three fields `network`, `kind`, `actor`. Only roles the user really holds can be chosen.
    """

    def post(self, request: HttpRequest) -> HttpResponse:
        network_id, kind, actor_id = request.POST.get("network"), request.POST.get("kind", ""), request.POST.get("actor")
        if "choice" in request.POST:
            network_id, _, rest = request.POST["choice"].partition(":")
            kind, _, actor_id = rest.partition(":")
        for network in actors.networks_for_user(request.user):
            if str(network.pk) != network_id:
                continue
            request.session[tenancy.SESSION_NETWORK_KEY] = network.pk
            for actor in actors.actors_for(network, request.user, kind=kind or None):
                if str(actor.actor_id) == str(actor_id) or (actor.is_staff and kind == actors.STAFF):
                    chosen = dict(request.session.get(SESSION_ACTOR_KEY, {}))
                    chosen[f"{network.pk}:{actor.kind}"] = actor.actor_id
                    request.session[SESSION_ACTOR_KEY] = chosen
                    request.session[SESSION_AREA_KEY] = actor.kind
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


class StaffManagersOnly:
    """Mixin for console pages that only owners and admins may open (managers get a 404, like outsiders)."""

    allowed_roles: ClassVar[frozenset[str] | None] = actors.STAFF_MANAGERS


class StaffListView(StaffView, TemplateView):
    """The network's staff and open invitations; owners and admins invite, change roles and remove."""

    template_name = "console/staff.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["members"] = (Membership.objects.for_network(self.network).select_related("user")
                              .order_by("user__email"))
        context["pending"] = (Invitation.objects.for_network(self.network)
                              .filter(kind=ApiKey.ActorKind.STAFF, accepted_at__isnull=True))
        context["invite_form"] = kwargs.get("invite_form") or forms.StaffInviteForm()
        context["roles"] = Membership.Role.choices
        context["can_manage"] = self.actor.can_manage_network
        return context


class StaffInviteView(StaffManagersOnly, StaffListView):
    """Invite someone by email to a staff role; the acceptance link is mailed after commit."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.StaffInviteForm(request.POST)
        if form.is_valid():
            try:
                services.invite_staff(network=self.network, email=form.cleaned_data["email"],
                                      role=form.cleaned_data["role"], invited_by=request.user,
                                      base_url=request.build_absolute_uri("/"))
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
                return HttpResponseRedirect(reverse("console-staff"))
        return self.render_to_response(self.get_context_data(invite_form=form), status=400)


class StaffMemberView(StaffManagersOnly, StaffView):
    """Change a staff member's role (`action=role`) or remove them (`action=remove`)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        membership = Membership.objects.for_network(self.network).filter(pk=pk).select_related("user").first()
        if membership is None:
            raise Http404("No such staff member.")
        try:
            if request.POST.get("action") == "remove":
                services.remove_staff_member(network=self.network, membership_id=membership.pk, actor=request.user)
                messages.success(request, _("%(email)s was removed from the staff.") % {"email": membership.user.email})
            else:
                form = forms.StaffRoleForm(request.POST)
                if not form.is_valid():
                    raise ValidationError({"role": form.errors.get("role", [_("Choose a role.")])})
                services.change_staff_role(network=self.network, membership_id=membership.pk,
                                           role=form.cleaned_data["role"], actor=request.user)
                messages.success(request, _("%(email)s is now %(role)s.") % {
                    "email": membership.user.email, "role": Membership.Role(form.cleaned_data["role"]).label})
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return HttpResponseRedirect(reverse("console-staff"), status=303)
        if membership.user_id == request.user.pk and request.POST.get("action") == "remove":
            return HttpResponseRedirect(reverse("home"))
        return HttpResponseRedirect(reverse("console-staff"))


class InvitationView(View):
    """Accept an invitation: anonymous visitors sign up or log in first and come back here."""

    def _invitation(self, token: str) -> Invitation:
        invitation = invitations.find_open_invitation(token=token)
        if invitation is None:
            raise Http404("This invitation is unknown, expired or already used.")
        return invitation

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = self._invitation(token)
        if not request.user.is_authenticated:
            known = get_user_model().objects.filter(email__iexact=invitation.email).exists()
            target = reverse("account_login") if known else reverse("account_signup")
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.path})}")
        return render(request, "account/invitation.html", {"invitation": invitation, "landing_network": invitation.network})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = self._invitation(token)
        if not request.user.is_authenticated:
            return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': request.path})}")
        try:
            accepted = invitations.accept_invitation(token=token, user=request.user)
        except ValidationError as error:
            return render(request, "account/invitation.html", {"invitation": invitation, "errors": error.messages,
                                                       "landing_network": invitation.network}, status=400)
        request.session[tenancy.SESSION_NETWORK_KEY] = accepted.network_id
        if accepted.target_id is not None:
            chosen = dict(request.session.get(SESSION_ACTOR_KEY, {}))
            chosen[f"{accepted.network_id}:{accepted.kind}"] = accepted.target_id
            request.session[SESSION_ACTOR_KEY] = chosen
        messages.success(request, _("Welcome to %(network)s.") % {"network": accepted.network.display_name})
        return HttpResponseRedirect(AREA_HOME.get(accepted.kind, reverse("home")))


class NetworkSettingsPageView(StaffManagersOnly, StaffView, TemplateView):
    """The network's settings: name, currency, fees, payouts, security and branding."""

    template_name = "console/settings.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = forms.NetworkSettingsForm(initial=forms.NetworkSettingsForm.initial_for(self.network))
        return render(request, self.template_name, {"form": form, "network": self.network})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.NetworkSettingsForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.update_network_settings(network=self.network, actor=request.user, **form.changes())
            except ValidationError as error:
                forms.add_service_errors(form, error, forms.SETTINGS_ERROR_FIELDS)
            else:
                messages.success(request, _("Settings saved."))
                return HttpResponseRedirect(reverse("console-settings"))
        return render(request, self.template_name, {"form": form, "network": self.network}, status=400)


class DomainsView(StaffManagersOnly, StaffView, TemplateView):
    """The network's custom host names: list, add, remove."""

    template_name = "console/domains.html"

    def _render(self, request: HttpRequest, form: forms.DomainForm, status: int = 200) -> HttpResponse:
        domains = Domain.objects.for_network(self.network).order_by("host")
        return render(request, self.template_name, {"form": form, "domains": domains, "network": self.network,
                                                    "base_domain": _base_domain()}, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, forms.DomainForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.DomainForm(request.POST)
        if form.is_valid():
            try:
                domain = services.add_domain(network=self.network, host=form.cleaned_data["host"], actor=request.user)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("%(host)s now opens this network.") % {"host": domain.host})
                return HttpResponseRedirect(reverse("console-domains"))
        return self._render(request, form, status=400)


def _base_domain() -> str:
    from django.conf import settings

    return settings.BASE_DOMAIN


class DomainRemoveView(StaffManagersOnly, StaffView):
    """Remove one of the network's host names."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not Domain.objects.for_network(self.network).filter(pk=pk).exists():
            raise Http404("No such domain.")
        services.remove_domain(network=self.network, domain_id=pk, actor=request.user)
        messages.success(request, _("Domain removed."))
        return HttpResponseRedirect(reverse("console-domains"))


class AuditLogView(StaffView, ListView):
    """The network's audit log, newest first."""

    template_name = "console/audit.html"
    model = AuditEvent
    paginate_by = 50
    context_object_name = "events"

    def scoped_queryset(self) -> QuerySet:
        return AuditEvent.objects.select_related("actor").order_by("-created_at", "-pk")


AREA_TEMPLATE_DIRS = {actors.STAFF: "console", actors.MERCHANT: "merchant", actors.AFFILIATE: "portal"}


class ApiKeysPage(AreaView, TemplateView):
    """API keys of the current role: staff see (and owners/admins revoke) every key of the network; merchants
    and affiliates see their own. Anyone creates keys for themselves in the current role; a new key is shown once.
    """

    template_name = "api_keys/index.html"
    model = ApiKey
    merchant_field = "actor_id"
    affiliate_field = "actor_id"
    revoke_url_name: ClassVar[str]
    page_url_name: ClassVar[str]

    def scoped_queryset(self) -> QuerySet:
        keys = ApiKey.objects.select_related("user").order_by("-created_at")
        if self.actor.is_staff:
            return keys
        return keys.filter(actor_kind=self.actor.kind, user_id=self.request.user.pk)

    def can_revoke(self, api_key: ApiKey) -> bool:
        """Owners and admins revoke any key of the network; everyone else only their own."""
        return api_key.user_id == self.request.user.pk or self.actor.can_manage_network

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        keys = list(self.get_queryset())
        context.update({
            "keys": [(key, self.can_revoke(key)) for key in keys], "form": kwargs.get("form") or forms.ApiKeyForm(),
            "show_owner": self.actor.is_staff, "revoke_url_name": self.revoke_url_name,
            "page_url_name": self.page_url_name, "area": self.area,
            # The area's own layout (its navigation) when that area has one, else the plain base.
            "area_base": select_template([f"{AREA_TEMPLATE_DIRS[self.area]}/base.html", "base.html"]),
        })
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                api_key, key = services.create_api_key(
                    network=self.network, user=request.user, actor_kind=self.actor.kind,
                    actor_id=self.actor.actor_id, name=form.cleaned_data["name"], scopes=form.scopes())
            except ValidationError as error:
                forms.add_service_errors(form, error, {"scopes": "capabilities"})
            else:
                services.record_audit(network=self.network, actor=request.user, action="api_key.created",
                                      obj=api_key, data={"prefix": api_key.prefix, "scopes": api_key.scopes})
                context = self.get_context_data(form=forms.ApiKeyForm())
                context.update({"new_key": key, "new_api_key": api_key})
                return self.render_to_response(context)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ApiKeyRevokePage(AreaView):
    """Revoke one key (htmx swaps the row; without htmx, back to the list)."""

    model = ApiKey
    merchant_field = "actor_id"
    affiliate_field = "actor_id"
    page_url_name: ClassVar[str]

    scoped_queryset = ApiKeysPage.scoped_queryset
    can_revoke = ApiKeysPage.can_revoke

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        api_key = self.get_queryset().filter(pk=pk).first()
        if api_key is None or not self.can_revoke(api_key):
            raise Http404("No such key.")
        api_key = services.revoke_api_key(network=self.network, api_key_id=api_key.pk, actor=request.user)
        if getattr(request, "htmx", False):
            return render(request, "api_keys/row.html", {
                "key": api_key, "can_revoke": False, "show_owner": self.actor.is_staff,
                "revoke_url_name": self.revoke_url_name})
        messages.success(request, _("Key %(prefix)s… revoked.") % {"prefix": api_key.prefix})
        return HttpResponseRedirect(reverse(self.page_url_name))


class ConsoleApiKeysView(ApiKeysPage, StaffView):
    """/console/api-keys/."""

    revoke_url_name = "console-api-key-revoke"
    page_url_name = "console-api-keys"


class MerchantApiKeysView(ApiKeysPage, MerchantView):
    """/merchant/api-keys/."""

    revoke_url_name = "merchant-api-key-revoke"
    page_url_name = "merchant-api-keys"


class PortalApiKeysView(ApiKeysPage, AffiliateView):
    """/portal/api-keys/."""

    revoke_url_name = "portal-api-key-revoke"
    page_url_name = "portal-api-keys"


class ConsoleApiKeyRevokeView(ApiKeyRevokePage, StaffView):
    revoke_url_name = "console-api-key-revoke"
    page_url_name = "console-api-keys"


class MerchantApiKeyRevokeView(ApiKeyRevokePage, MerchantView):
    revoke_url_name = "merchant-api-key-revoke"
    page_url_name = "merchant-api-keys"


class PortalApiKeyRevokeView(ApiKeyRevokePage, AffiliateView):
    revoke_url_name = "portal-api-key-revoke"
    page_url_name = "portal-api-keys"


AREA_API_KEYS = {actors.STAFF: "console-api-keys", actors.MERCHANT: "merchant-api-keys",
                 actors.AFFILIATE: "portal-api-keys"}


class MyApiKeysView(LoginRequiredMixin, View):
    """/keys/: a redirect to the API-key page of the user's current area (no data of its own)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        network = tenancy.resolve_network(request)
        found = actors.actors_for(network, request.user) if network else []
        if not found:
            return render(request, "no_role.html", {"landing_network": network})
        wanted = request.GET.get("as") or request.session.get(SESSION_AREA_KEY)
        actor = next((each for each in found if each.kind == wanted), found[0])
        return HttpResponseRedirect(reverse(AREA_API_KEYS[actor.kind]))
