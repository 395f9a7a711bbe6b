"""Pages of affiliate payouts: console review of batches, portal payouts and settings, provider webhooks."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from network.actors import STAFF_MANAGERS
from network.api.errors import error_body
from network.views_base import AffiliateView, StaffView
from payouts import forms, payout_selectors, payout_services
from payouts.models import Payout, PayoutBatch, PayoutMethod
from payouts.providers import ProviderError, ProviderNotConfigured, WebhookRejected
from payouts.providers.bank_file import render_bank_file


def _first_error(error: ValidationError) -> str:
    return "; ".join(error.messages) if not hasattr(error, "error_dict") else "; ".join(
        f"{field}: {' '.join(messages_)}" for field, messages_ in error.message_dict.items())


# --- Console ---------------------------------------------------------------------------------------

class ConsolePayoutsView(StaffView, TemplateView):
    """Batches, newest first; owners and admins build the due batch on demand."""

    template_name = "payouts/console_payouts.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        from django.utils import timezone

        now = timezone.now()
        context.update({
            "network": self.network, "batches": payout_selectors.batches(network=self.network)[:100],
            "due_period": payout_services.due_period(network=self.network, now=now)[0],
            "next_date": payout_services.next_payout_date(network=self.network, now=now),
            "can_manage": self.actor.can_manage_network,
            "transit": payout_selectors.in_transit_check(network=self.network),
        })
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        if not self.actor.can_manage_network:
            raise PermissionDenied
        result = payout_services.build_payout_batch(network=self.network, actor=request.user)
        if result.created:
            messages.success(request, _("Batch %(period)s built.") % {"period": result.batch.period_key})
        else:
            messages.info(request, _("The batch of %(period)s exists already.") % {"period": result.batch.period_key})
        return HttpResponseRedirect(reverse("console-payout-batch", args=[result.batch.pk]))


class BatchMixin:
    """The batch of the URL within the network (another network's id is a 404)."""

    network: Any
    actor: Any

    def batch(self, pk: int) -> PayoutBatch:
        return get_object_or_404(PayoutBatch.objects.for_network(self.network), pk=pk)


class ConsolePayoutBatchView(BatchMixin, StaffView, TemplateView):
    """One batch: totals per method and currency, exceptions, payouts; approve, remove, bank file, mark paid."""

    template_name = "payouts/console_payout_batch.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        batch = self.batch(kwargs["pk"])
        payouts = list(batch.payouts.select_related("affiliate").order_by("method", "currency", "affiliate__name"))
        failed_before = payout_selectors.failed_before(network=self.network, batch=batch)
        user = self.request.user
        context.update({
            "network": self.network, "batch": batch, "payouts": payouts,
            "totals": payout_selectors.batch_totals(batch=batch), "failed_before": failed_before,
            "can_manage": self.actor.can_manage_network,
            "maker_checker_blocks": (self.network.require_payout_maker_checker and batch.built_by_id is not None
                                     and batch.built_by_id == user.pk),
            "has_bank": any(p.method == PayoutMethod.BANK for p in payouts),
            "bank_open": any(p.method == PayoutMethod.BANK and p.status == Payout.Status.SUBMITTED for p in payouts),
        })
        return context


class ConsoleBatchActionView(BatchMixin, StaffView):
    """POST-only actions of owners and admins on a batch; each calls one service."""

    allowed_roles = STAFF_MANAGERS
    operation = ""

    def post(self, request: HttpRequest, pk: int, payout_pk: int | None = None) -> HttpResponse:
        batch = self.batch(pk)
        try:
            if self.operation == "approve":
                payout_services.approve_payout_batch(network=self.network, batch_id=batch.pk, actor=request.user)
                messages.success(request, _("Batch approved; payouts are being sent."))
            elif self.operation == "remove":
                payout = get_object_or_404(Payout.objects.for_network(self.network).filter(batch=batch), pk=payout_pk)
                payout_services.remove_payout(network=self.network, payout_id=payout.pk, actor=request.user,
                                              reason=request.POST.get("reason", ""))
                messages.success(request, _("Payout removed; the amount is back in the affiliate's balance."))
            elif self.operation == "mark_paid":
                ids = None
                if payout_pk is not None:
                    ids = [get_object_or_404(Payout.objects.for_network(self.network).filter(batch=batch),
                                             pk=payout_pk).pk]
                count = payout_services.mark_bank_payouts_paid(network=self.network, batch_id=batch.pk,
                                                               actor=request.user, payout_ids=ids)
                messages.success(request, _("%(count)s bank payouts marked paid.") % {"count": count})
        except PermissionDenied:
            messages.error(request, _("Maker-checker: someone other than the builder of this batch must approve it."))
            return HttpResponseRedirect(reverse("console-payout-batch", args=[batch.pk]), status=303)
        except ValidationError as error:
            messages.error(request, _first_error(error))
        return HttpResponseRedirect(reverse("console-payout-batch", args=[batch.pk]))


class ConsoleBankFileView(BatchMixin, StaffView):
    """The CSV or SEPA file of a batch's bank payouts, for finance to upload to the bank."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = self.batch(pk)
        payouts = list(batch.payouts.filter(method=PayoutMethod.BANK).exclude(
            status__in=[Payout.Status.REMOVED, Payout.Status.FAILED]).select_related("batch").order_by("pk"))
        items = [payout_services._item(payout) for payout in payouts]
        try:
            filename, content_type, content = render_bank_file(batch.reference, items)
        except ProviderError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("console-payout-batch", args=[batch.pk]))
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


# --- Portal ----------------------------------------------------------------------------------------

class PortalPayoutsView(AffiliateView, TemplateView):
    """The affiliate's payouts: on-hold reasons, next expected payout, history with status and reasons."""

    template_name = "payouts/portal_payouts.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        from affiliates.models import Affiliate

        affiliate = Affiliate.objects.for_network(self.network).get(pk=self.actor.affiliate_id)
        context.update({
            "network": self.network,
            "summary": payout_selectors.portal_summary(network=self.network, affiliate=affiliate),
            "payouts": Payout.objects.for_network(self.network).filter(affiliate_id=affiliate.pk)
                       .select_related("batch").order_by("-created_at", "-pk")[:100],
        })
        return context


class PortalPayoutSettingsView(AffiliateView, TemplateView):
    """Method, details, currency, threshold and tax declaration; Stripe and Payoneer onboarding buttons."""

    template_name = "payouts/portal_payout_settings.html"

    def form(self, data: Any = None) -> forms.PayoutProfileForm:
        profile = payout_selectors.profile_for(network=self.network, affiliate_id=self.actor.affiliate_id)
        return forms.PayoutProfileForm(data, network=self.network, profile=profile)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        profile = payout_selectors.profile_for(network=self.network, affiliate_id=self.actor.affiliate_id)
        context.update({"network": self.network, "form": kwargs.get("form") or self.form(), "profile": profile,
                        "hold_reasons": payout_services.hold_reasons(profile=profile)})
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request.POST)
        if form.is_valid():
            values = form.cleaned_data
            try:
                payout_services.save_payout_profile(
                    network=self.network, affiliate_id=self.actor.affiliate_id, method=values["method"],
                    details=form.details(), currency=values["currency"], threshold=values["threshold"],
                    tax=form.tax(), actor=request.user)
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Payout settings saved."))
                return HttpResponseRedirect(reverse("portal-payout-settings"))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PortalOnboardingView(AffiliateView):
    """POST: start (or continue) Stripe Express onboarding or Payoneer registration at the provider."""

    provider = ""

    def post(self, request: HttpRequest) -> HttpResponse:
        back = request.build_absolute_uri(reverse("portal-payout-settings"))
        currency = request.POST.get("currency") or None
        try:
            if self.provider == PayoutMethod.STRIPE:
                url = payout_services.start_stripe_onboarding(
                    network=self.network, affiliate_id=self.actor.affiliate_id, email=request.user.email,
                    refresh_url=back, return_url=back, currency=currency)
            else:
                url = payout_services.start_payoneer_registration(
                    network=self.network, affiliate_id=self.actor.affiliate_id, redirect_url=back, currency=currency)
        except ProviderError as error:
            messages.error(request, _("The provider could not start the onboarding: %(error)s") % {
                "error": error.message})
            return HttpResponseRedirect(reverse("portal-payout-settings"))
        return HttpResponseRedirect(url)


# --- Provider webhooks (public: they authenticate by signature or shared secret) --------------------

@method_decorator(csrf_exempt, name="dispatch")
class ProviderWebhookView(View):
    """`/integrations/<provider>/`: verify, dedupe by provider event id, apply; 400 and no change if unsigned."""

    method = ""

    def post(self, request: HttpRequest) -> HttpResponse:
        return self.handle(request, request.body)

    def get(self, request: HttpRequest) -> HttpResponse:
        if self.method != PayoutMethod.PAYONEER:  # only Payoneer's IPCN calls back with GET parameters
            return JsonResponse(error_body("method_not_allowed", "POST only."), status=405)
        return self.handle(request, request.META.get("QUERY_STRING", "").encode())

    def handle(self, request: HttpRequest, body: bytes) -> HttpResponse:
        try:
            outcomes = payout_services.handle_provider_webhook(method=self.method, headers=request.headers, body=body)
        except WebhookRejected as error:
            return JsonResponse(error_body("invalid_webhook", error.message), status=400)
        except ProviderNotConfigured as error:
            return JsonResponse(error_body("not_configured", error.message), status=503)
        return JsonResponse({"received": len(outcomes), "outcomes": outcomes})
