"""Pages: the merchant dashboard (/merchant/…) and the console's merchant pages (/console/merchants/…).

Analysts are read-only: every write goes through `require_admin`, and the templates hide the buttons.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from merchants import forms, selectors, services
from merchants.models import (
    CommissionRule,
    Creative,
    Merchant,
    MerchantMembership,
    Program,
    ProgramAffiliateRate,
    ProgramEvent,
)
from network import actors, money, tenancy
from network.views_base import AreaView, MerchantView, StaffView

STATUS_ACTIONS = {
    Program.Status.ACTIVE: gettext_lazy("Activate"),
    Program.Status.PAUSED: gettext_lazy("Pause"),
    Program.Status.CLOSED: gettext_lazy("Close"),
}


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


class MerchantPage(MerchantView):
    """A dashboard page about the actor's merchant and its programs."""

    model = Program
    merchant_field = "merchant_id"

    @property
    def can_edit(self) -> bool:
        return self.actor.role == MerchantMembership.Role.ADMIN

    def require_admin(self) -> None:
        if not self.can_edit:
            raise PermissionDenied("Analysts have read-only access.")

    def get_program(self, pk: int) -> Program:
        return get_object_or_404(self.get_queryset(), pk=pk)

    def merchant(self) -> Merchant:
        return Merchant.objects.for_network(self.network).get(pk=self.actor.merchant_id)

    def page(self, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
        context.update({"network": self.network, "can_edit": self.can_edit, "actor": self.actor})
        return render(self.request, template, context, status=status)


class MerchantHomeView(MerchantPage):
    """/merchant/: the merchant's programs at a glance."""

    def get(self, request: HttpRequest) -> HttpResponse:
        programs = list(self.get_queryset().annotate(rule_count=Count("rules")).order_by("name"))
        counts = selectors.program_status_counts(network=self.network, merchant_id=self.actor.merchant_id)
        return self.page("merchant/home.html", {"merchant": self.merchant(), "programs": programs,
                                                "counts": counts})


class ProgramListView(MerchantPage):
    """/merchant/programs/: every program of the merchant."""

    def get(self, request: HttpRequest) -> HttpResponse:
        programs = list(self.get_queryset().prefetch_related("rules").order_by("name"))
        return self.page("merchant/programs/list.html", {"programs": programs})


class ProgramCreateView(MerchantPage):
    """/merchant/programs/new/: a new draft program with its first commission rule."""

    def get(self, request: HttpRequest) -> HttpResponse:
        self.require_admin()
        form = forms.ProgramForm(with_first_rule=True, initial={"currency": self.network.default_currency})
        return self.page("merchant/programs/form.html", {"form": form, "creating": True})

    def post(self, request: HttpRequest) -> HttpResponse:
        self.require_admin()
        form = forms.ProgramForm(request.POST, with_first_rule=True)
        if form.is_valid():
            try:
                program = services.create_program(network=self.network, merchant_id=self.actor.merchant_id,
                                                  actor=request.user, rules=form.first_rule(),
                                                  **form.program_fields())
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                messages.success(request, _("Program created as a draft. Activate it when you are ready."))
                return HttpResponseRedirect(reverse("merchant-program", args=[program.pk]))
        return self.page("merchant/programs/form.html", {"form": form, "creating": True}, status=400)


class ProgramDetailView(MerchantPage):
    """/merchant/programs/<id>/: facts, status actions, rules, terms and history."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        program = self.get_program(pk)
        rules = list(CommissionRule.objects.for_network(self.network).filter(program=program).order_by("action"))
        return self.page("merchant/programs/detail.html", {
            "program": program, "rules": [(rule, _rule_summary(rule, program.currency)) for rule in rules],
            "terms": selectors.current_terms(network=self.network, program=program),
            "events": list(ProgramEvent.objects.for_network(self.network).filter(program=program)
                           .select_related("actor")[:20]),
            **_status_context(program),
        })


def _status_context(program: Program) -> dict[str, Any]:
    moves = [(status, STATUS_ACTIONS[status]) for status in (Program.Status.ACTIVE, Program.Status.PAUSED,
                                                             Program.Status.CLOSED)
             if status in Program.ALLOWED_TRANSITIONS[program.status]]
    return {"program": program, "moves": moves}


def _rule_summary(rule: CommissionRule, currency: str) -> str:
    if rule.type == CommissionRule.Type.PERCENT:
        text = f"{rule.rate.normalize():f} %" if rule.rate is not None else "0 %"
    else:
        text = money.format_money(rule.amount_minor or 0, currency)
    parts = [text]
    for tier in rule.tiers or []:
        value = f"{tier['rate']} %" if "rate" in tier else money.format_money(int(tier["amount_minor"]), currency)
        parts.append(_("%(value)s from %(count)s approved this month") % {"value": value,
                                                                          "count": tier["min_approved"]})
    if rule.recurring == CommissionRule.Recurring.MONTHS:
        parts.append(_("recurring for %(n)s months") % {"n": rule.recurring_months})
    elif rule.recurring == CommissionRule.Recurring.LIFETIME:
        parts.append(_("recurring for life"))
    if rule.monthly_cap_per_affiliate:
        parts.append(_("cap %(n)s per affiliate per month") % {"n": rule.monthly_cap_per_affiliate})
    return " · ".join(parts)


class ProgramStatusView(MerchantPage):
    """POST /merchant/programs/<id>/status/: activate, pause or close (htmx swaps the status panel)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.require_admin()
        program = self.get_program(pk)
        error_message = ""
        try:
            program = services.change_program_status(network=self.network, program_id=program.pk,
                                                     to_status=request.POST.get("status", ""), actor=request.user,
                                                     reason=request.POST.get("reason", ""))
        except ValidationError as error:
            error_message = " ".join(error.messages)
        if is_htmx(request):
            return self.page("merchant/programs/_status.html", {**_status_context(program), "error": error_message},
                             status=200)
        if error_message:
            messages.error(request, error_message)
        else:
            messages.success(request, _("The program is now %(status)s.") % {"status": program.get_status_display()})
        return HttpResponseRedirect(reverse("merchant-program", args=[program.pk]))


class ProgramEditView(MerchantPage):
    """/merchant/programs/<id>/edit/: change a program's settings."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.require_admin()
        program = self.get_program(pk)
        form = forms.ProgramForm(initial=forms.ProgramForm.initial_for(program))
        return self.page("merchant/programs/form.html", {"form": form, "program": program})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.require_admin()
        program = self.get_program(pk)
        form = forms.ProgramForm(request.POST)
        if form.is_valid():
            fields = form.program_fields()
            if fields.get("currency") == program.currency:
                fields.pop("currency")
            try:
                services.update_program(network=self.network, program_id=program.pk, actor=request.user, **fields)
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                messages.success(request, _("Program saved."))
                return HttpResponseRedirect(reverse("merchant-program", args=[program.pk]))
        return self.page("merchant/programs/form.html", {"form": form, "program": program}, status=400)


class ProgramRulesView(MerchantPage):
    """/merchant/programs/<id>/rules/: commission rules (actions, tiers, recurring, caps) and private rates."""

    def _context(self, program: Program, formset: Any = None, rate_form: Any = None) -> dict[str, Any]:
        rules = CommissionRule.objects.for_network(self.network).filter(program=program).order_by("action")
        if formset is None:
            formset = forms.RuleFormSet(prefix="rules", initial=[forms.RuleForm.initial_for(rule, program.currency)
                                                                 for rule in rules])
        affiliates = self._affiliates(program)
        if rate_form is None:
            rate_form = forms.AffiliateRateForm(prefix="rate", affiliates=affiliates)
        private_rates = list(ProgramAffiliateRate.objects.for_network(self.network).filter(program=program)
                             .select_related("affiliate").order_by("affiliate__name", "action"))
        return {"program": program, "formset": formset, "rate_form": rate_form, "private_rates": private_rates,
                "has_affiliates": bool(affiliates)}

    def _affiliates(self, program: Program) -> list[tuple[int, str]]:
        # Only affiliates enrolled in this program: a merchant does not browse the network's whole roster.
        affiliate_model = ProgramAffiliateRate._meta.get_field("affiliate").related_model
        return list(affiliate_model.objects.for_network(self.network).filter(enrollments__program=program)
                    .order_by("name").values_list("pk", "name").distinct())

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        program = self.get_program(pk)
        return self.page("merchant/programs/rules.html", self._context(program))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.require_admin()
        program = self.get_program(pk)
        if "rate-affiliate" in request.POST:
            return self._post_rate(request, program)
        if "remove_rate" in request.POST:
            services.remove_affiliate_rate(network=self.network, program_id=program.pk,
                                           rate_id=int(request.POST["remove_rate"] or 0), actor=request.user)
            messages.success(request, _("Private rate removed."))
            return HttpResponseRedirect(reverse("merchant-program-rules", args=[program.pk]))
        formset = forms.RuleFormSet(request.POST, prefix="rules")
        if formset.is_valid():
            try:
                rules = [rule for form in formset.forms if form.cleaned_data
                         for rule in [form.to_rule(program.currency)] if rule is not None]
                services.set_commission_rules(network=self.network, program_id=program.pk, rules=rules,
                                              actor=request.user)
            except ValidationError as error:
                formset._non_form_errors = formset.error_class(error.messages)
            else:
                messages.success(request, _("Commission rules saved."))
                return HttpResponseRedirect(reverse("merchant-program-rules", args=[program.pk]))
        return self.page("merchant/programs/rules.html", self._context(program, formset=formset), status=400)

    def _post_rate(self, request: HttpRequest, program: Program) -> HttpResponse:
        rate_form = forms.AffiliateRateForm(request.POST, prefix="rate", affiliates=self._affiliates(program))
        if rate_form.is_valid():
            data = rate_form.cleaned_data
            percent = data["type"] == CommissionRule.Type.PERCENT
            try:
                services.set_affiliate_rate(
                    network=self.network, program_id=program.pk, affiliate_id=data["affiliate"], action=data["action"],
                    type=data["type"], rate=data["value"] if percent else None,
                    amount_minor=None if percent else money.to_minor(data["value"], program.currency),
                    actor=request.user)
            except ValidationError as error:
                forms.apply_errors(rate_form, error)
            else:
                messages.success(request, _("Private rate saved."))
                return HttpResponseRedirect(reverse("merchant-program-rules", args=[program.pk]))
        return self.page("merchant/programs/rules.html", self._context(program, rate_form=rate_form), status=400)


class ProgramTermsView(MerchantPage):
    """/merchant/programs/<id>/terms/: terms history and publishing a new version."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        program = self.get_program(pk)
        current = selectors.current_terms(network=self.network, program=program)
        initial = ({"promotion_methods": current.promotion_methods, "ppc_brand_bidding": current.ppc_brand_bidding,
                    "coupon_sites": current.coupon_sites, "text": current.text} if current else {})
        return self._render(program, forms.TermsForm(initial=initial))

    def _render(self, program: Program, form: forms.TermsForm, status: int = 200) -> HttpResponse:
        return self.page("merchant/programs/terms.html", {
            "program": program, "form": form,
            "history": selectors.terms_history(network=self.network, program_id=program.pk)}, status=status)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.require_admin()
        program = self.get_program(pk)
        form = forms.TermsForm(request.POST)
        if form.is_valid():
            try:
                terms = services.publish_terms(network=self.network, program_id=program.pk, actor=request.user,
                                               **form.cleaned_data)
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                messages.success(request, _("Terms version %(v)s published. Approved affiliates must accept it "
                                            "before their links work again.") % {"v": terms.version})
                return HttpResponseRedirect(reverse("merchant-program-terms", args=[program.pk]))
        return self._render(program, form, status=400)


class CreativesView(MerchantPage):
    """/merchant/programs/<id>/creatives/: banners and text links."""

    def _render(self, program: Program, form: forms.CreativeForm, status: int = 200) -> HttpResponse:
        creatives = list(Creative.objects.for_network(self.network).filter(program=program))
        return self.page("merchant/programs/creatives.html", {"program": program, "form": form,
                                                              "creatives": creatives}, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(self.get_program(pk), forms.CreativeForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.require_admin()
        program = self.get_program(pk)
        form = forms.CreativeForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.create_creative(network=self.network, program_id=program.pk, actor=request.user,
                                         **form.cleaned_data)
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                messages.success(request, _("Creative added."))
                return HttpResponseRedirect(reverse("merchant-program-creatives", args=[program.pk]))
        return self._render(program, form, status=400)


class CreativeToggleView(MerchantPage):
    """POST /merchant/programs/<id>/creatives/<cid>/toggle/: show or hide a creative for affiliates."""

    def post(self, request: HttpRequest, pk: int, creative_id: int) -> HttpResponse:
        self.require_admin()
        program = self.get_program(pk)
        creative = get_object_or_404(Creative.objects.for_network(self.network), pk=creative_id, program=program)
        services.update_creative(network=self.network, creative_id=creative.pk, actor=request.user,
                                 is_active=not creative.is_active)
        return HttpResponseRedirect(reverse("merchant-program-creatives", args=[program.pk]))


class ProgramSettingsView(MerchantPage):
    """/merchant/programs/<id>/settings/: postback token (regenerate) and the click-id parameter."""

    def _render(self, program: Program, form: forms.ClickParamForm, status: int = 200) -> HttpResponse:
        base = services.network_base_url(self.network)
        postback = (f"{base}/t/postback?token={program.postback_token}&click_id={{click_id}}"
                    f"&order_id={{order_id}}&amount={{amount}}&currency={program.currency}&action=sale")
        return self.page("merchant/programs/settings.html", {"program": program, "form": form,
                                                             "postback_example": postback}, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        program = self.get_program(pk)
        return self._render(program, forms.ClickParamForm(initial={"click_param": program.click_param}))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.require_admin()
        program = self.get_program(pk)
        if "regenerate" in request.POST:
            services.regenerate_postback_token(network=self.network, program_id=program.pk, actor=request.user)
            messages.success(request, _("New postback token issued; the old one no longer works."))
            return HttpResponseRedirect(reverse("merchant-program-settings", args=[program.pk]))
        form = forms.ClickParamForm(request.POST)
        if form.is_valid():
            try:
                services.update_program(network=self.network, program_id=program.pk, actor=request.user,
                                        click_param=form.cleaned_data["click_param"])
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                messages.success(request, _("Click-id parameter saved."))
                return HttpResponseRedirect(reverse("merchant-program-settings", args=[program.pk]))
        return self._render(program, form, status=400)


class TeamView(MerchantPage):
    """/merchant/team/: members and invitations; admins invite admins and analysts."""

    model = MerchantMembership
    merchant_field = "merchant_id"

    def _render(self, form: forms.InviteMemberForm, status: int = 200) -> HttpResponse:
        return self.page("merchant/team.html", {
            "members": list(self.get_queryset().select_related("user").order_by("role", "created_at")),
            "invitations": selectors.open_merchant_invitations(network=self.network,
                                                               merchant_id=self.actor.merchant_id),
            "form": form, "roles": MerchantMembership.Role.choices}, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(forms.InviteMemberForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        self.require_admin()
        form = forms.InviteMemberForm(request.POST)
        if form.is_valid():
            try:
                services.invite_merchant_member(network=self.network, merchant_id=self.actor.merchant_id,
                                                actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
                return HttpResponseRedirect(reverse("merchant-team"))
        return self._render(form, status=400)


class TeamMemberView(MerchantPage):
    """POST /merchant/team/<id>/: change a member's role or remove them."""

    model = MerchantMembership
    merchant_field = "merchant_id"

    def post(self, request: HttpRequest, membership_id: int) -> HttpResponse:
        self.require_admin()
        membership = get_object_or_404(self.get_queryset(), pk=membership_id)
        try:
            services.change_member_role(network=self.network, merchant_id=self.actor.merchant_id,
                                        membership_id=membership.pk, role=request.POST.get("role", ""),
                                        actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(reverse("merchant-team"))


class MerchantApplyView(AreaView):
    """/merchant/apply/: a signed-in user of the network applies to become a merchant (staff approve).

    Unlike other dashboard pages it is for users who are not (yet) a merchant here, so it resolves only
    the network; what it writes is the user's own pending application.
    """

    area = actors.MERCHANT

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        network = tenancy.resolve_network(request)
        if network is None:
            raise Http404("No network here.")
        self.network = network
        # Django's plain View.dispatch: AreaView's actor resolution needs a role this user does not have yet.
        return View.dispatch(self, request, *args, **kwargs)

    def scoped_queryset(self) -> QuerySet:
        return Merchant.objects.none()

    def _render(self, form: forms.MerchantApplicationForm, status: int = 200) -> HttpResponse:
        mine = list(Merchant.objects.for_network(self.network).filter(memberships__user=self.request.user))
        return render(self.request, "merchant/apply.html", {"form": form, "network": self.network,
                                                            "my_merchants": mine}, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(forms.MerchantApplicationForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.MerchantApplicationForm(request.POST)
        if form.is_valid():
            try:
                services.apply_as_merchant(network=self.network, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                messages.success(request, _("Thank you. The network reviews your application; you can set up "
                                            "draft programs meanwhile."))
                return HttpResponseRedirect("/merchant/")
        return self._render(form, status=400)


# --- console ----------------------------------------------------------------------------------------

class ConsoleMerchantPage(StaffView):
    model = Merchant

    def page(self, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
        context.update({"network": self.network})
        return render(self.request, template, context, status=status)


class ConsoleMerchantListView(ConsoleMerchantPage):
    """/console/merchants/: every merchant of the network; create one (owner invited by email)."""

    def _render(self, form: forms.MerchantCreateForm, status: int = 200) -> HttpResponse:
        wanted = self.request.GET.get("status", "")
        merchants = self.get_queryset().annotate(program_count=Count("programs", distinct=True),
                                                 member_count=Count("memberships", distinct=True)).order_by("name")
        if wanted in Merchant.Status.values:
            merchants = merchants.filter(status=wanted)
        return self.page("console/merchants/list.html", {
            "merchants": list(merchants[:500]), "form": form, "status": wanted,
            "statuses": Merchant.Status.choices,
            "pending_count": self.get_queryset().filter(status=Merchant.Status.PENDING).count()}, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(forms.MerchantCreateForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.MerchantCreateForm(request.POST)
        if form.is_valid():
            try:
                merchant, invitation = services.create_merchant(network=self.network, actor=request.user,
                                                                **form.cleaned_data)
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                if invitation is not None:
                    messages.success(request, _("Merchant created; the owner was invited by email."))
                else:
                    messages.success(request, _("Merchant created; the owner already had an account and is its admin."))
                return HttpResponseRedirect(reverse("console-merchant", args=[merchant.pk]))
        return self._render(form, status=400)


class ConsoleMerchantDetailView(ConsoleMerchantPage):
    """/console/merchants/<id>/: members, programs, status and the fee override."""

    def _render(self, merchant: Merchant, fee_form: forms.MerchantFeeForm, status: int = 200) -> HttpResponse:
        currency = self.network.default_currency
        programs = list(Program.objects.for_network(self.network).filter(merchant=merchant).order_by("name"))
        return self.page("console/merchants/detail.html", {
            "merchant": merchant, "fee_form": fee_form, "programs": programs,
            "members": selectors.merchant_members(network=self.network, merchant_id=merchant.pk),
            "invitations": selectors.open_merchant_invitations(network=self.network, merchant_id=merchant.pk),
            "moves": sorted(services.MERCHANT_TRANSITIONS.get(merchant.status, ())),
            "currency": currency}, status=status)

    def _initial(self, merchant: Merchant) -> dict[str, Any]:
        currency = self.network.default_currency
        return {"fee_type": merchant.fee_type, "fee_rate": merchant.fee_rate,
                "fee_flat": money.to_major(merchant.fee_flat_minor, currency)
                if merchant.fee_flat_minor is not None else None}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        merchant = get_object_or_404(self.get_queryset(), pk=pk)
        return self._render(merchant, forms.MerchantFeeForm(initial=self._initial(merchant)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        merchant = get_object_or_404(self.get_queryset(), pk=pk)
        if "status" in request.POST:
            try:
                services.change_merchant_status(network=self.network, merchant_id=merchant.pk,
                                                to_status=request.POST["status"], actor=request.user,
                                                reason=request.POST.get("reason", ""))
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Merchant status changed."))
            return HttpResponseRedirect(reverse("console-merchant", args=[merchant.pk]))
        form = forms.MerchantFeeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                flat = (money.to_minor(data["fee_flat"], self.network.default_currency)
                        if data.get("fee_flat") is not None else None)
                services.set_merchant_fee(network=self.network, merchant_id=merchant.pk, fee_type=data["fee_type"],
                                          fee_rate=data.get("fee_rate"), fee_flat_minor=flat, actor=request.user)
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                messages.success(request, _("Fee saved."))
                return HttpResponseRedirect(reverse("console-merchant", args=[merchant.pk]))
        return self._render(merchant, form, status=400)

