"""Pages: affiliate sign-up (/join/), the affiliate portal, the merchant review queue and coupons, the console."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import select_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from affiliates import forms, selectors, services
from affiliates.models import (
    Affiliate,
    AffiliateMembership,
    Coupon,
    Enrollment,
    ProgramInvitation,
    TrackingLink,
)
from merchants import selectors as merchant_selectors
from merchants.models import MerchantMembership, Program
from network import tenancy
from network.models import Invitation
from network.views_base import AffiliateView, MerchantView, StaffView


def apply_errors(form: django_forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, on the field it names when the form has it."""
    for name, messages_ in error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]:
        for message in messages_:
            form.add_error(name if name in form.fields else None, message)


# Merchant analysts read; only admins decide, assign coupons and invite.
MERCHANT_ADMINS = frozenset({MerchantMembership.Role.ADMIN})


def refuse_analysts(actor: Any) -> None:
    """Writes on merchant pages are for the merchant's admins."""
    if actor.role not in MERCHANT_ADMINS:
        raise PermissionDenied("Merchant analysts cannot change this.")


def merchant_base() -> Any:
    # The merchants app owns the dashboard layout; fall back to the plain base until it exists.
    return select_template(["merchant/base.html", "base.html"])


# --- sign-up -------------------------------------------------------------------------------------------


class JoinView(View):
    """/join/: a logged-in user without an affiliate here creates one; anonymous visitors are sent to sign up."""

    template_name = "portal/join.html"

    def _network(self, request: HttpRequest) -> Any:
        network = tenancy.resolve_network(request)
        if network is None:
            raise Http404("No network here.")
        return network

    def get(self, request: HttpRequest) -> HttpResponse:
        network = self._network(request)
        if request.user.is_authenticated and selectors.affiliate_of_user(network=network, user=request.user):
            return HttpResponseRedirect("/portal/")
        return self._render(request, network, forms.AffiliateProfileForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        network = self._network(request)
        if not request.user.is_authenticated:
            return HttpResponseRedirect(self._signup_url())
        form = forms.AffiliateProfileForm(request.POST)
        if form.is_valid():
            try:
                services.sign_up_affiliate(network=network, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Welcome! Find programs to promote in the marketplace."))
                return HttpResponseRedirect("/portal/marketplace/")
        return self._render(request, network, form, status=400)

    def _signup_url(self) -> str:
        return reverse("account_signup") + "?" + urlencode({"next": "/join/"})

    def _render(self, request: HttpRequest, network: Any, form: Any, status: int = 200) -> HttpResponse:
        request.network = network  # type: ignore[attr-defined]  # branding for the layout
        return render(request, self.template_name, {
            "form": form, "join_network": network, "signup_url": self._signup_url(),
            "login_url": reverse("account_login") + "?" + urlencode({"next": "/join/"}),
        }, status=status)


# --- portal --------------------------------------------------------------------------------------------


class PortalView(AffiliateView, TemplateView):
    """Base of portal pages: the affiliate in context."""

    affiliate_field = "affiliate_id"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["affiliate"] = Affiliate.objects.for_network(self.network).get(pk=self.actor.affiliate_id)
        return context

    def host(self) -> str:
        return self.request.get_host()


class PortalHomeView(PortalView):
    """The portal's front page: account status, programs awaiting action, shortcuts."""

    template_name = "portal/home.html"
    model = Enrollment

    def scoped_queryset(self) -> QuerySet:
        return selectors.enrollments_for_actor(Enrollment.objects.all())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        enrollments = list(self.get_queryset())
        context.update({
            "approved_count": sum(1 for e in enrollments if e.status == Enrollment.Status.APPROVED),
            "pending_count": sum(1 for e in enrollments if e.status == Enrollment.Status.PENDING),
            "terms_due": [e for e in enrollments if e.status == Enrollment.Status.APPROVED
                          and e.needs_terms_acceptance],
            "link_count": TrackingLink.objects.for_network(self.network)
            .filter(affiliate_id=self.actor.affiliate_id).count(),
        })
        return context


def marketplace_rows(programs: list[Program]) -> list[dict[str, Any]]:
    """Programs with their figures and rule summaries, for the marketplace templates."""
    return [{"program": program, "figures": selectors.program_figures(program),
             "rules": [selectors.describe_rule(rule, program.currency) for rule in program.rules.all()],
             "my_rates": [selectors.describe_rule(rate, program.currency) for rate in getattr(program, "my_rates", [])],
             "status": getattr(program, "my_enrollment_status", None)} for program in programs]


class MarketplacePageView(PortalView):
    """Search and filter the programs this affiliate can join."""

    template_name = "portal/marketplace.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        categories = selectors.marketplace_categories(network=self.network, affiliate_id=self.actor.affiliate_id)
        form = forms.MarketplaceFilterForm(self.request.GET or None, categories=categories)
        filters: dict[str, Any] = {}
        if form.is_valid():
            data = form.cleaned_data
            filters = {"text": data["q"], "category": data["category"], "commission_type": data["commission_type"],
                       "min_cookie_days": data["min_cookie_days"], "currency": data["currency"]}
        programs = list(selectors.marketplace_programs(network=self.network, affiliate_id=self.actor.affiliate_id,
                                                       **filters)[:100])
        context.update({"form": form, "rows": marketplace_rows(programs),
                        "payout_methods": selectors.network_payout_methods(self.network)})
        return context


class ProgramPageView(PortalView):
    """One program as the affiliate sees it, with its terms and the application form."""

    template_name = "portal/program.html"

    def program(self) -> Program:
        program = (selectors.marketplace_programs(network=self.network, affiliate_id=self.actor.affiliate_id)
                   .filter(pk=self.kwargs["pk"]).first())
        if program is None:
            raise Http404("No such program.")
        return program

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        program = self.program()
        context.update({
            "row": marketplace_rows([program])[0], "program": program,
            "terms": merchant_selectors.current_terms(network=self.network, program=program),
            "enrollment": Enrollment.objects.for_network(self.network)
            .filter(program=program, affiliate_id=self.actor.affiliate_id).first(),
            "form": kwargs.get("form") or forms.ApplyForm(),
            "payout_methods": selectors.network_payout_methods(self.network),
        })
        return context

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = forms.ApplyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                enrollment, _created = services.apply_to_program(
                    network=self.network, affiliate_id=self.actor.affiliate_id, program_id=pk,
                    message=data["message"], website=data["website"],
                    promotion_methods=data["promotion_methods"], actor=request.user)
            except Program.DoesNotExist:
                raise Http404("No such program.") from None
            except ValidationError as error:
                apply_errors(form, error)
            else:
                if enrollment.status == Enrollment.Status.APPROVED:
                    messages.success(request, _("You are approved. Create your tracking links now."))
                    return HttpResponseRedirect(reverse("portal-links") + f"?program={pk}")
                messages.success(request, _("Application sent. The merchant will review it."))
                return HttpResponseRedirect(reverse("portal-my-programs"))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class MyProgramsView(PortalView):
    """The affiliate's enrollments, with new terms to accept."""

    template_name = "portal/my_programs.html"
    model = Enrollment

    def scoped_queryset(self) -> QuerySet:
        return selectors.enrollments_for_actor(Enrollment.objects.all())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        enrollments = list(self.get_queryset())
        due = [e.program for e in enrollments if e.status == Enrollment.Status.APPROVED and e.needs_terms_acceptance]
        terms = {}
        for program in due:
            terms[program.pk] = merchant_selectors.current_terms(network=self.network, program=program)
        context.update({"enrollments": [(e, terms.get(e.program_id)) for e in enrollments]})
        return context


class AcceptTermsView(PortalView):
    """POST: accept the current terms of one of the affiliate's programs."""

    http_method_names = ["post"]
    model = Enrollment

    def scoped_queryset(self) -> QuerySet:
        return Enrollment.objects.all()

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        enrollment = self.get_queryset().filter(pk=pk).first()
        if enrollment is None:
            raise Http404("No such enrollment.")
        services.accept_terms(network=self.network, enrollment_id=enrollment.pk,
                              affiliate_id=self.actor.affiliate_id, actor=request.user)
        messages.success(request, _("Terms accepted; your links work again."))
        return HttpResponseRedirect(reverse("portal-my-programs"))


class LinksView(PortalView):
    """The affiliate's tracking links and the link builder."""

    template_name = "portal/links.html"
    model = TrackingLink

    def scoped_queryset(self) -> QuerySet:
        return TrackingLink.objects.select_related("program", "enrollment").order_by("-created_at", "-pk")

    def programs(self) -> list[tuple[int, str]]:
        return [(e.program_id, e.program.name)
                for e in selectors.approved_enrollments(network=self.network, affiliate_id=self.actor.affiliate_id)]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        programs = self.programs()
        initial = {"program": self.request.GET.get("program")} if self.request.GET.get("program") else None
        host = self.host()
        links = [(link, selectors.link_tracking_url(link, host=host, secure=self.request.is_secure()),
                  selectors.link_is_usable(link)) for link in self.get_queryset()[:200]]
        context.update({"links": links, "programs": programs,
                        "form": kwargs.get("form") or forms.LinkBuilderForm(programs=programs, initial=initial)})
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.LinkBuilderForm(request.POST, programs=self.programs())
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.create_tracking_link(
                    network=self.network, affiliate_id=self.actor.affiliate_id, program_id=data["program"],
                    destination_url=data["destination_url"], label=data["label"], actor=request.user,
                    subs={name: data[name] for name in services.SUB_FIELDS})
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Link created."))
                return HttpResponseRedirect(reverse("portal-links"))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CreativesView(PortalView):
    """Banners and text links of approved programs with the affiliate's default link applied."""

    template_name = "portal/creatives.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        creatives = selectors.creatives_for_affiliate(network=self.network, affiliate_id=self.actor.affiliate_id)
        default_links: dict[int, TrackingLink] = {}
        for link in (TrackingLink.objects.for_network(self.network)
                     .filter(affiliate_id=self.actor.affiliate_id, is_active=True,
                             program_id__in={c.program_id for c in creatives})
                     .select_related("program").order_by("created_at", "pk")):
            default_links.setdefault(link.program_id, link)
        rows = []
        for creative in creatives:
            link = default_links.get(creative.program_id)
            if link is None:
                continue
            url = selectors.tracking_url(code=link.code, host=self.host(), secure=self.request.is_secure(),
                                         subs={"to": getattr(creative, "destination_url", "")})
            image = getattr(creative, "image", None)
            image_url = self.request.build_absolute_uri(image.url) if image else ""
            if image_url:
                alt = getattr(creative, "alt_text", "") or creative.name
                snippet = f'<a href="{url}" rel="sponsored"><img src="{image_url}" alt="{alt}"></a>'
            else:
                snippet = f'<a href="{url}" rel="sponsored">{getattr(creative, "text", "") or creative.name}</a>'
            rows.append({"creative": creative, "program": link.program, "url": url, "image_url": image_url,
                         "snippet": snippet})
        context["rows"] = rows
        return context


class TeamView(PortalView):
    """Members of the affiliate account; owners invite more."""

    template_name = "portal/team.html"
    model = AffiliateMembership

    def scoped_queryset(self) -> QuerySet:
        return AffiliateMembership.objects.select_related("user").order_by("created_at", "pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update({
            "members": list(self.get_queryset()),
            "invitations": list(Invitation.objects.for_network(self.network)
                                .filter(kind="affiliate", target_id=self.actor.affiliate_id,
                                        accepted_at__isnull=True).order_by("-created_at")),
            "can_invite": self.actor.role == AffiliateMembership.Role.OWNER,
            "form": kwargs.get("form") or forms.TeamInviteForm(),
        })
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        if self.actor.role != AffiliateMembership.Role.OWNER:
            raise Http404("Only owners invite.")
        form = forms.TeamInviteForm(request.POST)
        if form.is_valid():
            try:
                membership, _invitation = services.invite_affiliate_member(
                    network=self.network, affiliate_id=self.actor.affiliate_id, email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"], actor=request.user)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Member added.") if membership else _("Invitation sent."))
                return HttpResponseRedirect(reverse("portal-team"))
        return self.render_to_response(self.get_context_data(form=form), status=400)


# --- merchant: applications queue, coupons, private program invitations --------------------------------


class MerchantEnrollmentsView(MerchantView, TemplateView):
    """The applications queue and affiliates of the merchant's programs, with approve/reject via htmx."""

    template_name = "merchant/enrollments/index.html"
    model = Enrollment
    merchant_field = "program__merchant_id"

    def scoped_queryset(self) -> QuerySet:
        return selectors.enrollments_for_actor(Enrollment.objects.all())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        enrollments = self.get_queryset()
        status = self.request.GET.get("status", Enrollment.Status.PENDING)
        if status in Enrollment.Status.values:
            enrollments = enrollments.filter(status=status)
        program = self.request.GET.get("program", "")
        if program.isdigit():
            enrollments = enrollments.filter(program_id=int(program))
        context.update({
            "merchant_base": merchant_base(), "enrollments": list(enrollments[:200]), "status": status,
            "statuses": Enrollment.Status.choices, "program_filter": program,
            "programs": list(Program.objects.for_network(self.network).filter(merchant_id=self.actor.merchant_id)
                             .order_by("name").values_list("pk", "name")),
        })
        return context


class MerchantEnrollmentDecisionView(MerchantView):
    """POST approve/reject/suspend/reinstate one enrollment; answers the table row for htmx, else redirects."""

    allowed_roles = MERCHANT_ADMINS
    model = Enrollment
    merchant_field = "program__merchant_id"
    decisions = {"approve": services.approve_enrollment, "reject": services.reject_enrollment,
                 "suspend": services.suspend_enrollment, "reinstate": services.reinstate_enrollment}

    def scoped_queryset(self) -> QuerySet:
        return Enrollment.objects.all()

    def post(self, request: HttpRequest, pk: int, decision: str) -> HttpResponse:
        service = self.decisions.get(decision)
        enrollment = self.get_queryset().filter(pk=pk).first()
        if service is None or enrollment is None:
            raise Http404("No such enrollment.")
        error_message = ""
        try:
            service(network=self.network, enrollment_id=enrollment.pk, actor=request.user,
                    reason=request.POST.get("reason", ""))
        except ValidationError as error:
            error_message = " ".join(error.messages)
        if not request.headers.get("HX-Request"):
            if error_message:
                messages.error(request, error_message)
            return HttpResponseRedirect(reverse("merchant-enrollments"))
        enrollment = selectors.enrollments_for_actor(self.get_queryset()).get(pk=pk)
        return render(request, "merchant/enrollments/row.html", {"enrollment": enrollment, "error": error_message},
                      status=400 if error_message else 200)


class MerchantBulkDecisionView(MerchantView):
    """POST approve or reject the selected enrollments of the merchant's programs."""

    allowed_roles = MERCHANT_ADMINS
    model = Enrollment
    merchant_field = "program__merchant_id"

    def scoped_queryset(self) -> QuerySet:
        return Enrollment.objects.all()

    def post(self, request: HttpRequest) -> HttpResponse:
        wanted = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
        # Only the merchant's own enrollments; foreign ids are silently not there.
        ids = list(self.get_queryset().filter(pk__in=wanted).values_list("pk", flat=True))
        try:
            done, refused = services.decide_enrollments(network=self.network, enrollment_ids=ids,
                                                        decision=request.POST.get("decision", ""),
                                                        actor=request.user, reason=request.POST.get("reason", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if done:
                messages.success(request, _("%(count)d applications updated.") % {"count": len(done)})
            if refused:
                messages.error(request, _("%(count)d could not be changed.") % {"count": len(refused)})
        return HttpResponseRedirect(reverse("merchant-enrollments"))


class MerchantChoicesMixin:
    """Program and affiliate choices for the merchant's forms."""

    network: Any
    actor: Any

    def program_choices(self) -> list[tuple[int, str]]:
        return list(Program.objects.for_network(self.network).filter(merchant_id=self.actor.merchant_id)
                    .order_by("name").values_list("pk", "name"))

    def affiliate_choices(self, *, approved_only: bool) -> list[tuple[int, str]]:
        affiliates = Affiliate.objects.for_network(self.network).filter(status=Affiliate.Status.ACTIVE)
        if approved_only:
            affiliates = affiliates.filter(enrollments__program__merchant_id=self.actor.merchant_id,
                                           enrollments__status=Enrollment.Status.APPROVED).distinct()
        return list(affiliates.order_by("name").values_list("pk", "name"))


class MerchantAssignmentPage(MerchantChoicesMixin):
    """A merchant page listing rows with one form whose valid submission calls one service."""

    rows_name: ClassVar[str]
    success_message: ClassVar[Any]
    success_url_name: ClassVar[str]

    def form(self, data: Any = None) -> Any:
        raise NotImplementedError

    def submit(self, data: dict[str, Any]) -> None:
        """Call the service for a valid form; a ValidationError lands on the form's fields."""
        raise NotImplementedError

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update({"merchant_base": merchant_base(), self.rows_name: list(self.get_queryset()[:500]),  # type: ignore[attr-defined]
                        "form": kwargs.get("form") or self.form()})
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        refuse_analysts(self.actor)
        form = self.form(request.POST)
        if form.is_valid():
            try:
                self.submit(form.cleaned_data)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, self.success_message)
                return HttpResponseRedirect(reverse(self.success_url_name))
        return self.render_to_response(self.get_context_data(form=form), status=400)  # type: ignore[attr-defined]


class MerchantCouponsView(MerchantAssignmentPage, MerchantView, TemplateView):
    """Coupons of the merchant's programs and the form to assign one."""

    template_name = "merchant/enrollments/coupons.html"
    model = Coupon
    merchant_field = "program__merchant_id"
    rows_name = "coupons"
    success_message = gettext_lazy("Coupon assigned.")
    success_url_name = "merchant-coupons"

    def scoped_queryset(self) -> QuerySet:
        return Coupon.objects.select_related("program", "affiliate").order_by("program__name", "code")

    def form(self, data: Any = None) -> forms.CouponForm:
        return forms.CouponForm(data, programs=self.program_choices(),
                                affiliates=self.affiliate_choices(approved_only=True))

    def submit(self, data: dict[str, Any]) -> None:
        services.create_coupon(network=self.network, merchant_id=self.actor.merchant_id,
                               program_id=data["program"], affiliate_id=data["affiliate"],
                               code=data["code"], actor=self.request.user)


class MerchantProgramInvitationsView(MerchantAssignmentPage, MerchantView, TemplateView):
    """Invite affiliates to the merchant's (private) programs."""

    template_name = "merchant/enrollments/invitations.html"
    model = ProgramInvitation
    merchant_field = "program__merchant_id"
    rows_name = "invitations"
    success_message = gettext_lazy("Affiliate invited.")
    success_url_name = "merchant-program-invitations"

    def scoped_queryset(self) -> QuerySet:
        return ProgramInvitation.objects.select_related("program", "affiliate").order_by("-created_at", "-pk")

    def form(self, data: Any = None) -> forms.ProgramInviteForm:
        return forms.ProgramInviteForm(data, programs=self.program_choices(),
                                       affiliates=self.affiliate_choices(approved_only=False))

    def submit(self, data: dict[str, Any]) -> None:
        services.invite_affiliate_to_program(network=self.network, merchant_id=self.actor.merchant_id,
                                             program_id=data["program"], affiliate_id=data["affiliate"],
                                             actor=self.request.user)


# --- console -------------------------------------------------------------------------------------------


class ConsoleAffiliatesView(StaffView, TemplateView):
    """Every affiliate of the network: filter by status, create, approve, suspend, reinstate."""

    template_name = "console/affiliates/index.html"
    model = Affiliate

    def scoped_queryset(self) -> QuerySet:
        return Affiliate.objects.order_by("name", "pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        affiliates = self.get_queryset()
        status = self.request.GET.get("status", "")
        if status in Affiliate.Status.values:
            affiliates = affiliates.filter(status=status)
        context.update({"affiliates": list(affiliates[:500]), "status": status, "statuses": Affiliate.Status.choices,
                        "form": kwargs.get("form") or forms.ConsoleAffiliateForm()})
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.ConsoleAffiliateForm(request.POST)
        if form.is_valid():
            try:
                _affiliate, invitation = services.create_affiliate(network=self.network, actor=request.user,
                                                                   **form.cleaned_data)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Affiliate created; the owner was invited by email.") if invitation
                                 else _("Affiliate created."))
                return HttpResponseRedirect(reverse("console-affiliates"))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ConsoleAffiliateStatusView(StaffView):
    """POST approve/suspend/reinstate an affiliate of the network."""

    model = Affiliate
    # move → (to status, required current status)
    moves = {"approve": (Affiliate.Status.ACTIVE, Affiliate.Status.PENDING),
             "suspend": (Affiliate.Status.SUSPENDED, None),
             "reinstate": (Affiliate.Status.ACTIVE, Affiliate.Status.SUSPENDED)}

    def post(self, request: HttpRequest, pk: int, move: str) -> HttpResponse:
        affiliate = self.get_queryset().filter(pk=pk).first()
        if affiliate is None or move not in self.moves:
            raise Http404("No such affiliate.")
        try:
            to_status, from_status = self.moves[move]
            services.change_affiliate_status(network=self.network, affiliate_id=affiliate.pk,
                                             to_status=to_status, from_status=from_status, actor=request.user,
                                             reason=request.POST.get("reason", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Affiliate updated."))
        return HttpResponseRedirect(reverse("console-affiliates"))
