"""The tracking doors (/c/, /t/, /integrations/stripe/) and the conversion pages of merchants and affiliates.

The doors run without session, auth, CSRF or messages middleware (network.middleware); they
authenticate by what they carry: a link code, a program's postback token, a click id valid for the
program, or Stripe's signature.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from merchants import domains
from merchants.models import MerchantMembership, Program
from network.api.errors import django_validation_detail, error_body
from network.views_base import AffiliateView, MerchantView
from tracking import clicks, selectors, services, stripe_webhooks
from tracking.forms import StripeIntegrationForm
from tracking.models import Click, Conversion, StripeIntegration, new_click_id

logger = logging.getLogger("tracking")

TRACKER_JS = (Path(__file__).parent / "static" / "tracking" / "tracker.js").read_bytes()
# The smallest transparent 1×1 GIF.
PIXEL_GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
             b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def cookie_name(program_id: int) -> str:
    """The first-party cookie on the tracking host that carries a program's click."""
    return f"aff_{program_id}"


def _redirect(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    # A cached redirect would skip the next click's recording.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response


@require_http_methods(["GET", "HEAD"])
def click(request: HttpRequest, code: str) -> HttpResponse:
    """GET /c/<code>: screen, record, set the cookie, 302 to an allowed destination with the click id."""
    entry = clicks.resolve_link(code)
    if entry is None:
        return render(request, "tracking/unknown_link.html", status=404)
    if not entry["active"]:
        return _redirect(entry["landing_url"])  # paused, closed, inactive link: nothing credited
    query = request.GET
    destination = domains.program_destination(query.get("to"), default=entry["default_destination"],
                                              allowed_domains=entry["allowed_domains"])
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if request.method == "HEAD" or clicks.is_prefetch(request):
        return _redirect(destination)
    if clicks.is_bot(user_agent):
        clicks.increment_metric("tracking_bot_clicks")
        return _redirect(destination)
    now = timezone.now()
    ip = clicks.client_ip(request)
    visitor = clicks.visitor_hash(ip, user_agent)
    click_id = new_click_id()
    subs = [(query.get(name) or entry["subs"][i])[:100] for i, name in enumerate(clicks.SUB_PARAMS)]
    try:
        # Returns only after the row is committed (group commit on PostgreSQL): the 302 below is durable.
        # The duplicate screen runs with the store (batched); a duplicate answers with the first click's id.
        original = services.record_click(
            entry=entry, click_id=click_id, now=now, subs=subs, destination_url=destination,
            referrer=request.META.get("HTTP_REFERER", ""), user_agent=user_agent,
            device=clicks.device_class(user_agent), country=clicks.country_for_ip(ip), ip_hash=clicks.hash_ip(ip),
            visitor=visitor, paid_click_params=[name for name in clicks.PAID_CLICK_PARAMS if name in query])
    except DatabaseError:
        # The visitor still goes on; without a click id nothing can be credited, and the loss is counted.
        clicks.increment_metric("tracking_unrecorded_clicks", detail=f"link={entry['link_id']}")
        return _redirect(destination)
    carried = original or click_id
    response = _redirect(clicks.with_param(destination, entry["click_param"], carried))
    name = cookie_name(entry["program_id"])
    if not (entry["first_click"] and request.COOKIES.get(name)):
        response.set_cookie(name, carried, max_age=entry["cookie_seconds"], secure=request.is_secure(),
                            httponly=True, samesite="Lax")
    return response


def _json_error(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status)


def _validation_response(error: ValidationError) -> JsonResponse:
    detail = django_validation_detail(error)
    named = [name for name in detail if name != "non_field_errors"]
    message = ("Invalid value for " + ", ".join(named) + ".") if named else " ".join(
        m for messages_ in detail.values() for m in messages_)
    return _json_error(400, "invalid", message, detail)


@require_GET
def postback(request: HttpRequest) -> HttpResponse:
    """GET /t/postback?token=…: a conversion from a shop platform that can only call a URL."""
    token = request.GET.get("token", "")
    program = Program.objects.filter(postback_token=token).first() if token else None
    if program is None:
        return _json_error(403, "forbidden", "Unknown postback token.")
    params = request.GET
    try:
        conversion, created = services.record_conversion(
            program=program, order_id=params.get("order_id"), amount=params.get("amount"),
            currency=params.get("currency") or program.currency, action=params.get("action") or "sale",
            occurred_at=params.get("occurred_at") or None, source=Conversion.Source.POSTBACK,
            click_id=params.get("click_id", ""), coupon=params.get("coupon", ""),
            customer_id=params.get("customer_id", ""), customer_email=params.get("customer_email", ""))
    except ValidationError as error:
        return _validation_response(error)
    return JsonResponse({"result": "created" if created else "exists", "id": conversion.pk,
                         "status": conversion.status, "order_id": conversion.order_id})


@require_GET
def tracker_js(request: HttpRequest) -> HttpResponse:
    """GET /t/tracker.js: the merchant-site script, identical for everyone, so caches may keep it."""
    response = HttpResponse(TRACKER_JS, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _gif(outcome: str) -> HttpResponse:
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    response["X-Conversion"] = outcome
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def pixel(request: HttpRequest) -> HttpResponse:
    """/t/pixel.gif: a conversion reported from the thank-you page, accepted only with a click of the program."""
    params = request.POST if request.method == "POST" else request.GET
    program_id = params.get("program", "")
    program = Program.objects.filter(pk=int(program_id)).first() if program_id.isdigit() else None
    if program is None:
        return _gif("refused:program")
    click_id = (params.get("click_id") or request.COOKIES.get(cookie_name(program.pk), ""))[:64]
    # The pixel is public: without a click of this program anyone could invent conversions.
    if not click_id or not Click.objects.for_network(program.network_id).filter(
            program=program, click_id=click_id).exists():
        return _gif("refused:click_id")
    try:
        _, created = services.record_conversion(
            program=program, order_id=params.get("order_id"), amount=params.get("amount"),
            currency=params.get("currency") or program.currency, action=params.get("action") or "sale",
            source=Conversion.Source.PIXEL, click_id=click_id, coupon=params.get("coupon", ""),
            customer_id=params.get("customer_id", ""), customer_email=params.get("customer_email", ""),
            ip_hash=clicks.hash_ip(clicks.client_ip(request)))
    except ValidationError as error:
        fields = ",".join(sorted(getattr(error, "error_dict", {}) or ["input"]))
        return _gif(f"refused:{fields}")
    return _gif("created" if created else "exists")


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest, token: str) -> HttpResponse:
    """POST /integrations/stripe/<token>/: a Stripe event, verified with the program's signing secret."""
    integration = (StripeIntegration.objects.select_related("program").filter(token=token, is_active=True).first())
    if integration is None:
        raise Http404("Unknown Stripe endpoint.")
    try:
        event = stripe_webhooks.verify_event(integration=integration, payload=request.body,
                                             signature=request.META.get("HTTP_STRIPE_SIGNATURE", ""))
        stored = stripe_webhooks.process_event(integration=integration, event=event)
    except stripe_webhooks.InvalidStripeEvent as error:
        return _json_error(400, "invalid_signature", f"The event does not verify: {error}")
    return JsonResponse({"received": True, "event": stored.event_id, "outcome": stored.outcome})


class _ConversionListPage:
    """Shared list logic of the merchant and affiliate conversion pages."""

    template_name = ""
    page_size = 50

    def get(self, request: HttpRequest) -> HttpResponse:
        queryset = selectors.conversions_for_list(
            selectors.filter_conversions(self.get_queryset(), request.GET))  # type: ignore[attr-defined]
        page = Paginator(queryset, self.page_size).get_page(request.GET.get("page"))
        context: dict[str, Any] = {"page": page, "conversions": list(page.object_list),
                                   "statuses": Conversion.Status.choices, "filters": request.GET,
                                   "programs": self.filter_programs()}
        for conversion in context["conversions"]:
            conversion.explanation_json = json.dumps(conversion.explanation, indent=1, sort_keys=True)
        return render(request, self.template_name, context)

    def filter_programs(self) -> list[Program]:
        return []


class MerchantConversionsView(_ConversionListPage, MerchantView):
    """/merchant/conversions/: the merchant's conversions with status, flags and explanation."""

    model = Conversion
    merchant_field = "merchant_id"
    template_name = "tracking/merchant_conversions.html"

    def filter_programs(self) -> list[Program]:
        return list(selectors.programs_of_merchant(self.network, self.actor.merchant_id))


class AffiliateConversionsView(_ConversionListPage, AffiliateView):
    """/portal/conversions/: the affiliate's own conversions with status and reason."""

    model = Conversion
    affiliate_field = "affiliate_id"
    template_name = "tracking/portal_conversions.html"


class MerchantIntegrationView(MerchantView):
    """/merchant/integration/: copy-paste snippets for the four conversion doors, per program."""

    model = Program
    merchant_field = "merchant_id"

    def _context(self, request: HttpRequest, form: StripeIntegrationForm | None = None) -> dict[str, Any]:
        programs = list(self.get_queryset().order_by("name"))
        stripe_rows = selectors.stripe_integrations_by_program(self.network, [p.pk for p in programs])
        base = request.build_absolute_uri("/").rstrip("/")
        for program in programs:
            program.stripe = stripe_rows.get(program.pk)  # type: ignore[attr-defined]
        return {"programs": programs, "base": base, "form": form or StripeIntegrationForm(),
                "can_configure": self.actor.role == MerchantMembership.Role.ADMIN}

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "tracking/merchant_integration.html", self._context(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        if self.actor.role != MerchantMembership.Role.ADMIN:
            raise Http404("Only merchant admins configure integrations.")
        form = StripeIntegrationForm(request.POST)
        program_id = request.POST.get("program", "")
        program = self.get_queryset().filter(pk=int(program_id)).first() if program_id.isdigit() else None
        if program is None:
            raise Http404("No such program.")
        if form.is_valid():
            try:
                services.configure_stripe_integration(program=program,
                                                      webhook_secret=form.cleaned_data["webhook_secret"])
            except ValidationError as error:
                form.add_error("webhook_secret", error.message_dict.get("webhook_secret", error.messages))
            else:
                messages.success(request, _("Stripe endpoint saved for %(program)s.") % {"program": program.name})
                return HttpResponseRedirect(request.path)
        return render(request, "tracking/merchant_integration.html", self._context(request, form), status=400)
