"""Pages: the webhook delivery log (one view class for the three areas) and the affiliate postbacks page."""

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.generic import TemplateView

from network.views_base import AffiliateView, MerchantView, StaffView
from webhooks import selectors, services
from webhooks.forms import EndpointForm, PostbackForm
from webhooks.models import AffiliatePostback, PostbackDelivery, WebhookDelivery

AREA_PATHS = {"staff": "/console/", "merchant": "/merchant/", "affiliate": "/portal/"}
LOG_LIMIT = 50


def _apply_errors(form: Any, error: ValidationError) -> None:
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class WebhookLogMixin:
    """The webhook endpoints and delivery log of the page's actor; mixed into each area's base."""

    template_name = "webhooks/log.html"
    merchant_field: ClassVar[str | None] = "endpoint__owner_id"
    affiliate_field: ClassVar[str | None] = "endpoint__owner_id"

    def scoped_queryset(self: Any) -> QuerySet:
        return (WebhookDelivery.objects.filter(endpoint__owner_kind=self.actor.kind)
                .select_related("endpoint", "event").order_by("-created_at", "-id"))

    def context(self: Any, form: EndpointForm, created: Any = None) -> dict[str, Any]:
        return {
            "area_path": AREA_PATHS[self.area], "form": form, "created": created,
            "endpoints": selectors.endpoints_for_owner(self.network, owner_kind=self.actor.kind,
                                                       owner_id=self.actor.actor_id),
            "deliveries": self.get_queryset()[:LOG_LIMIT],
        }

    def get(self: Any, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, self.context(EndpointForm()))

    def post(self: Any, request: HttpRequest) -> HttpResponse:
        form = EndpointForm(request.POST)
        created = None
        if form.is_valid():
            try:
                created = services.create_endpoint(network=self.network, owner_kind=self.actor.kind,
                                                   owner_id=self.actor.actor_id, actor=request.user,
                                                   **form.cleaned_data)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                form = EndpointForm()
        status = 200 if created or not form.errors else 400
        return render(request, self.template_name, self.context(form, created), status=status)


class RedeliverMixin:
    """POST: queue one of the actor's deliveries again; htmx gets the refreshed row back."""

    merchant_field: ClassVar[str | None] = "endpoint__owner_id"
    affiliate_field: ClassVar[str | None] = "endpoint__owner_id"

    def scoped_queryset(self: Any) -> QuerySet:
        return WebhookDelivery.objects.filter(endpoint__owner_kind=self.actor.kind).select_related("endpoint", "event")

    def post(self: Any, request: HttpRequest, pk: int) -> HttpResponse:
        delivery = get_object_or_404(self.get_queryset(), pk=pk)
        services.redeliver_webhook(network=self.network, delivery_id=delivery.pk, actor=request.user)
        if not request.htmx:
            return HttpResponseRedirect(f"{AREA_PATHS[self.area]}webhooks/")
        delivery = self.get_queryset().get(pk=delivery.pk)
        return render(request, "webhooks/_delivery_row.html",
                      {"delivery": delivery, "area_path": AREA_PATHS[self.area]})


class StaffWebhookLogView(WebhookLogMixin, StaffView, TemplateView):
    """Console: the network team's webhook endpoints and deliveries."""


class MerchantWebhookLogView(WebhookLogMixin, MerchantView, TemplateView):
    """Merchant dashboard: the merchant's webhook endpoints and deliveries."""


class AffiliateWebhookLogView(WebhookLogMixin, AffiliateView, TemplateView):
    """Affiliate portal: the affiliate's webhook endpoints and deliveries."""


class StaffRedeliverView(RedeliverMixin, StaffView):
    """Console: redeliver one delivery."""


class MerchantRedeliverView(RedeliverMixin, MerchantView):
    """Merchant dashboard: redeliver one delivery."""


class AffiliateRedeliverView(RedeliverMixin, AffiliateView):
    """Affiliate portal: redeliver one delivery."""


class PostbacksView(AffiliateView):
    """Affiliate portal: postback URLs with macros and their recent firings."""

    template_name = "webhooks/postbacks.html"
    model = AffiliatePostback
    affiliate_field = "affiliate_id"

    def context(self, form: PostbackForm) -> dict[str, Any]:
        postbacks = list(self.get_queryset().order_by("-created_at", "-id"))
        recent = (PostbackDelivery.objects.for_network(self.network)
                  .filter(postback__in=[p.pk for p in postbacks]).order_by("-created_at", "-id")[:LOG_LIMIT])
        return {"form": form, "postbacks": postbacks, "recent": recent, "macros": services.POSTBACK_MACROS}

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, self.context(PostbackForm()))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PostbackForm(request.POST)
        if form.is_valid():
            try:
                services.create_postback(network=self.network, affiliate_id=self.actor.affiliate_id,
                                         url_template=form.cleaned_data["url_template"],
                                         program_id=form.cleaned_data["program"],
                                         event_types=form.cleaned_data["event_types"], actor=request.user)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                return HttpResponseRedirect("/portal/postbacks/")
        return render(request, self.template_name, self.context(form), status=400)


