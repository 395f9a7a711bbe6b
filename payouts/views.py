"""Pages of the payouts app: console ledger, funding and invoices; merchant billing; affiliate earnings."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import select_template
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from merchants.models import Merchant, Program
from network import money
from network.views_base import AffiliateView, MerchantView, StaffView
from payouts import fees, forms, selectors, services
from payouts.models import Invoice


def merchant_base() -> Any:
    # The merchants app owns the dashboard layout; fall back to the plain base until it exists.
    return select_template(["merchant/base.html", "base.html"])


class ConsoleLedgerView(StaffView, TemplateView):
    """Trial balance per currency (each must be zero) and every account with its balance."""

    template_name = "payouts/console_ledger.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        trial = selectors.trial_balance(network=self.network)
        paginator = Paginator(selectors.account_balances(network=self.network), 100)
        context.update({
            "network": self.network, "trial_balance": sorted(trial.items()),
            "balanced": all(total == 0 for total in trial.values()),
            "accounts": paginator.get_page(self.request.GET.get("page")),
            "transactions": selectors.recent_transactions(network=self.network, limit=20),
        })
        return context


class ConsoleFundingView(StaffView, TemplateView):
    """Record merchants' bank transfers; see balances, funding status and the billing settings."""

    template_name = "payouts/console_funding.html"

    def merchant_choices(self) -> list[tuple[int, str]]:
        return list(Merchant.objects.for_network(self.network).order_by("name").values_list("pk", "name"))

    def funding_form(self, data: Any = None) -> forms.MerchantFundingForm:
        return forms.MerchantFundingForm(data, merchants=self.merchant_choices(),
                                         default_currency=self.network.default_currency, prefix="funding")

    def settings_form(self, data: Any = None) -> forms.BillingSettingsForm:
        current = selectors.billing_settings(network=self.network)
        return forms.BillingSettingsForm(data, prefix="billing", initial={
            "funding_horizon_days": current.funding_horizon_days,
            "pause_unfunded_programs": current.pause_unfunded_programs})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        names = dict(self.merchant_choices())
        balances = selectors.merchant_balances(network=self.network)
        programs = list(Program.objects.for_network(self.network).select_related("merchant").order_by(
            "merchant__name", "name"))
        statuses = selectors.funding_status_for_programs(self.network, [p.pk for p in programs])
        context.update({
            "network": self.network,
            "form": kwargs.get("form") or self.funding_form(),
            "settings_form": kwargs.get("settings_form") or self.settings_form(),
            "balances": [{"merchant": names.get(m, m), "currency": c, "balance_minor": v}
                         for (m, c), v in sorted(balances.items(), key=lambda i: (str(names.get(i[0][0])), i[0][1]))],
            "programs": [{"program": p, "status": statuses.get(p.pk)} for p in programs],
            "fundings": selectors.merchant_fundings(network=self.network)[:50],
        })
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        if "billing-funding_horizon_days" in request.POST:
            settings_form = self.settings_form(request.POST)
            if settings_form.is_valid():
                services.update_billing_settings(network=self.network, **settings_form.cleaned_data)
                messages.success(request, _("Billing settings saved."))
                return HttpResponseRedirect(request.path)
            return self.render_to_response(self.get_context_data(settings_form=settings_form), status=400)
        form = self.funding_form(request.POST)
        if form.is_valid():
            values = form.cleaned_data
            try:
                funding, created = services.record_merchant_funding(
                    network=self.network, merchant_id=values["merchant"], amount_minor=values["amount_minor"],
                    currency=values["currency"], reference=values["reference"], note=values["note"],
                    actor=request.user)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                if created:
                    messages.success(request, _("Recorded %(amount)s from %(merchant)s.") % {
                        "amount": money.format_money(funding.amount_minor, funding.currency),
                        "merchant": funding.merchant.name})
                else:
                    messages.info(request, _("This reference was already recorded; nothing changed."))
                return HttpResponseRedirect(request.path)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ConsoleInvoicesView(StaffView, TemplateView):
    """Every issued invoice of the network."""

    template_name = "payouts/console_invoices.html"
    model = Invoice

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        queryset = self.get_queryset().select_related("merchant").order_by("-number")
        context.update({"network": self.network,
                        "invoices": Paginator(queryset, 50).get_page(self.request.GET.get("page"))})
        return context


class InvoiceDetailMixin:
    """A printable invoice, found within the actor's scope (another merchant's id is a 404)."""

    template_name = "payouts/invoice_detail.html"
    model = Invoice
    merchant_field = "merchant_id"
    base_template = "console/base.html"

    def get_base_template(self) -> Any:
        return self.base_template

    def invoice(self, pk: int) -> Invoice:
        return get_object_or_404(self.get_queryset().select_related("merchant"), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = self.invoice(pk)
        return render(request, self.template_name, {
            "invoice": invoice, "lines": invoice.lines.select_related("program"), "network": self.network,
            "base_template": self.get_base_template(), "csv_url": f"{request.path}csv/"})


class InvoiceCsvMixin(InvoiceDetailMixin):
    """The invoice's lines as CSV, streamed."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = self.invoice(pk)
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse((writer.writerow(row) for row in invoice_csv_rows(invoice)),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.display_number}.csv"'
        return response


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def invoice_csv_rows(invoice: Invoice) -> Iterator[list[str]]:
    """Header, one row per line, and the totals; amounts as decimal strings in major units."""
    currency = invoice.currency
    yield ["invoice", "period_start", "period_end", "program", "kind", "description", "transactions",
           "commission", "fee", "total", "currency"]
    for line in invoice.lines.select_related("program").iterator():
        yield [invoice.display_number, invoice.period_start.isoformat(), invoice.period_end.isoformat(),
               str(line.program_id or ""), line.kind, line.description, str(line.transactions),
               money.to_major(line.commission_minor, currency), money.to_major(line.fee_minor, currency),
               money.to_major(line.total_minor, currency), currency]
    yield [invoice.display_number, invoice.period_start.isoformat(), invoice.period_end.isoformat(), "", "total",
           "", "", money.to_major(invoice.commission_minor, currency), money.to_major(invoice.fee_minor, currency),
           money.to_major(invoice.total_minor, currency), currency]


class ConsoleInvoiceDetailView(InvoiceDetailMixin, StaffView):
    """A printable invoice in the console."""


class ConsoleInvoiceCsvView(InvoiceCsvMixin, StaffView):
    """An invoice's CSV in the console."""


class MerchantInvoiceDetailView(InvoiceDetailMixin, MerchantView):
    """A merchant's own printable invoice."""

    def get_base_template(self) -> Any:
        return merchant_base()


class MerchantInvoiceCsvView(InvoiceCsvMixin, MerchantView):
    """A merchant's own invoice as CSV."""


class MerchantBillingView(MerchantView, TemplateView):
    """The merchant's balance, its programs' funding status, its cost per conversion and its invoices."""

    template_name = "payouts/merchant_billing.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        merchant_id = self.actor.merchant_id
        merchant = Merchant.objects.for_network(self.network).get(pk=merchant_id)
        programs = list(Program.objects.for_network(self.network).filter(merchant_id=merchant_id).order_by("name"))
        statuses = selectors.funding_status_for_programs(self.network, [p.pk for p in programs])
        balances = selectors.merchant_balances(network=self.network, merchant_ids=[merchant_id])
        context.update({
            "merchant_base": merchant_base(), "network": self.network, "merchant": merchant,
            "balances": [{"currency": c, "balance_minor": v} for (_, c), v in sorted(balances.items())],
            "programs": [{"program": p, "status": statuses.get(p.pk)} for p in programs],
            "fee": fees.fee_terms(network=self.network, merchant=merchant),
            "costs": selectors.merchant_cost_summary(network=self.network, merchant_id=merchant_id),
            "horizon_days": selectors.billing_settings(network=self.network).funding_horizon_days,
            "invoices": selectors.invoices(network=self.network, merchant_id=merchant_id)[:24],
        })
        return context


class AffiliateEarningsView(AffiliateView, TemplateView):
    """The affiliate's balances per currency: pending, approved, in transit, available, paid."""

    template_name = "payouts/portal_earnings.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update({"network": self.network, "balances": selectors.affiliate_balances(
            network=self.network, affiliate_ids=[self.actor.affiliate_id])})
        return context
