"""Report pages: the affiliate portal dashboard, the merchant dashboard, the network console, CSV exports.

Every page reads the rollups through `selectors.rollups`, which applies the one scoping rule
(network.scoping.scope_for_actor) to the rollup rows: affiliates see their own rows, merchants their
programs, staff the network. Bad filter input re-renders the page with a 400 naming the field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from babel.dates import format_date
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from affiliates.models import TrackingLink
from merchants.models import Program
from network import money
from network.views_base import AffiliateView, MerchantView, StaffView
from reports import charts, selectors
from reports.selectors import DateRange, Figures, Rollups
from reports.templatetags.reports_format import current_locale

TABLE_TITLES = {
    "day": gettext_lazy("By day"), "program": gettext_lazy("Programs"), "affiliate": gettext_lazy("Top affiliates"),
    "link": gettext_lazy("Top links"), "sub1": gettext_lazy("Top sub-IDs (sub1)"),
    "country": gettext_lazy("Countries"), "device": gettext_lazy("Devices"),
    "clicks": gettext_lazy("Raw clicks"), "conversions": gettext_lazy("Raw conversions"),
}


def _short_day(value: Any) -> str:
    return format_date(value, "d MMM", locale=current_locale())


def _money_format(currency: str) -> Any:
    return lambda value: money.format_money(round(value), currency, current_locale())


class ReportPage(TemplateView):
    """Shared by the three dashboards: filters (from, to, currency, program), range and rollups."""

    area_prefix: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    network: Any
    actor: Any

    def filters(self) -> dict[str, Any]:
        """Validated filters; raises ValidationError naming the fields (shown on the page with a 400)."""
        params = self.request.GET
        errors: dict[str, list[str]] = {}
        date_range = None
        try:
            date_range = selectors.parse_range(network=self.network, start=params.get("from"), end=params.get("to"))
        except ValidationError as error:
            errors.update(error.message_dict)
        currency = (params.get("currency") or "").strip().upper() or None
        if currency is not None:
            try:
                money.validate_currency(currency)
            except ValidationError:
                errors["currency"] = [_("Enter an ISO 4217 currency code, e.g. EUR.")]
        program_id = None
        if params.get("program"):
            try:
                program_id = int(params["program"])
            except ValueError:
                errors["program"] = [_("Choose a program from the list.")]
        if errors:
            raise ValidationError(errors)
        if program_id is not None:
            programs = Program.objects.for_network(self.network).filter(pk=program_id)
            if self.actor.is_merchant:
                programs = programs.filter(merchant_id=self.actor.merchant_id)
            if not programs.exists():
                raise Http404("No such program.")
        return {"date_range": date_range, "currency": currency, "program_id": program_id}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            filters = self.filters()
        except ValidationError as error:
            context = {"errors": error.message_dict, "params": request.GET, "invalid": True,
                       "network": self.network, "from_value": "", "to_value": ""}
            return TemplateResponse(request, self.template_name, context, status=400)
        context = self.get_context_data(**filters)
        return self.render_to_response(context)

    def base_context(self, *, date_range: DateRange, currency: str | None, found: Rollups) -> dict[str, Any]:
        query = self.request.GET.urlencode()
        return {
            "network": self.network, "range": date_range, "currency": currency, "params": self.request.GET,
            "from_value": date_range.start.isoformat(), "to_value": date_range.end.isoformat(),
            "exports": [(name, TABLE_TITLES.get(name, name), f"{self.area_prefix}export/{name}.csv?{query}")
                        for name in (*self.tables, "clicks", "conversions")],
            "export_query": query,
        }

    @staticmethod
    def main_currency(totals: list[Figures], currency: str | None, default: str) -> str:
        if currency:
            return currency
        if totals:
            return max(totals, key=lambda row: (row.commission_minor, row.clicks)).currency
        return default

    @staticmethod
    def count_chart(title: str, found: Rollups, measures: dict[str, str]) -> Any:
        series = selectors.daily_series(found, measures)
        return charts.line_chart(title=title, x_labels=[_short_day(day) for day in series.days],
                                 lines=[charts.Line(label, series.values[name]) for name, label in measures.items()],
                                 y_label=_("count"))

    @staticmethod
    def money_chart(title: str, found: Rollups, measures: dict[str, str], currency: str) -> Any:
        series = selectors.daily_series(found, measures, currency=currency)
        return charts.line_chart(title=title, x_labels=[_short_day(day) for day in series.days],
                                 lines=[charts.Line(label, series.values[name]) for name, label in measures.items()],
                                 y_label=currency, y_format=_money_format(currency))


class PortalReportsView(AffiliateView, ReportPage):
    """The affiliate's dashboard: KPIs, charts, top links / sub-IDs / countries / devices, A/B test, diversification."""

    template_name = "reports/portal.html"
    area_prefix = "/portal/reports/"
    tables = ("day", "program", "link", "sub1", "country", "device")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        date_range, currency = kwargs["date_range"], kwargs["currency"]
        found = selectors.rollups(actor=self.actor, date_range=date_range, currency=currency,
                                  program_id=kwargs["program_id"])
        totals = selectors.totals(found)
        main = self.main_currency(totals, currency, self.network.default_currency)
        context = self.base_context(date_range=date_range, currency=currency, found=found)
        tables = {name: selectors.performance(found, name, network=self.network)
                  for name in ("link", "sub1", "country", "device", "program")}
        links = list(TrackingLink.objects.for_network(self.network).filter(affiliate_id=self.actor.affiliate_id)
                     .order_by("-pk").values_list("pk", "label", "code")[:200])
        context.update({
            "totals": totals, "overall": selectors.combined(totals), "main_currency": main,
            "has_data": bool(totals),
            "paid": selectors.payout_liabilities(network=self.network, affiliate_ids=[self.actor.affiliate_id]),
            "traffic_chart": self.count_chart(_("Clicks per day"), found,
                                              {"clicks": _("Clicks"), "unique_clicks": _("Unique clicks")}),
            "conversions_chart": self.count_chart(_("Conversions per day"), found, {"conversions": _("Conversions")}),
            "earnings_chart": self.money_chart(_("Earnings per day (%(currency)s)") % {"currency": main}, found,
                                               {"pending_commission_minor": _("Pending"),
                                                "approved_commission_minor": _("Approved")}, main),
            "top_links": selectors.top(tables["link"]), "top_sub1": selectors.top(tables["sub1"]),
            "countries": selectors.top(tables["country"], by="clicks", limit=20),
            "devices": selectors.top(tables["device"], by="clicks"),
            "programs": selectors.top(tables["program"], limit=50),
            "diversification": selectors.diversification(found, network=self.network),
            "warning_share": selectors.CONCENTRATION_WARNING_SHARE,
            "links": [(pk, label or code) for pk, label, code in links],
        })
        context["ab"] = self.ab_test(found, tables["link"], {pk for pk, _ in context["links"]})
        return context

    def ab_test(self, found: Rollups, link_rows: list[Figures], mine: set[int]) -> dict[str, Any] | None:
        """Compare ?link_a= and ?link_b= (default: the two links with most clicks); a foreign link is a 404."""
        chosen = []
        for name in ("link_a", "link_b"):
            value = self.request.GET.get(name)
            if value:
                if not value.isdigit() or int(value) not in mine:
                    raise Http404("No such link.")
                chosen.append(int(value))
        if len(chosen) < 2:
            ranked = [row.key for row in selectors.top(link_rows, by="clicks", limit=10) if row.key]
            chosen = (chosen + [key for key in ranked if key not in chosen])[:2]
        if len(chosen) < 2:
            return None
        return {"a": chosen[0], "b": chosen[1], "result": selectors.compare_links(found, link_a=chosen[0],
                                                                                   link_b=chosen[1])}


class MerchantReportsView(MerchantView, ReportPage):
    """The merchant's dashboard: performance over time, funnel, top affiliates, cost and revenue, review queue."""

    template_name = "reports/merchant.html"
    area_prefix = "/merchant/reports/"
    tables = ("day", "program", "affiliate", "country", "device")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        date_range, currency = kwargs["date_range"], kwargs["currency"]
        found = selectors.rollups(actor=self.actor, date_range=date_range, currency=currency,
                                  program_id=kwargs["program_id"])
        totals = selectors.totals(found)
        overall = selectors.combined(totals)
        main = self.main_currency(totals, currency, self.network.default_currency)
        context = self.base_context(date_range=date_range, currency=currency, found=found)
        billed = selectors.ledger_activity(network=self.network, date_range=date_range,
                                           merchant_id=self.actor.merchant_id)
        programs = list(Program.objects.for_network(self.network).filter(merchant_id=self.actor.merchant_id)
                        .order_by("name").values_list("pk", "name", "status"))
        context.update({
            "totals": totals, "overall": overall, "main_currency": main, "has_data": bool(totals),
            "has_active_program": any(status == Program.Status.ACTIVE for _, _, status in programs),
            "program_choices": [(pk, name) for pk, name, _ in programs], "program_id": kwargs["program_id"],
            "costs": [{"currency": row.currency, "sales": row.sale_amount_minor, "commission": row.commission_minor,
                       "billed": billed.get(row.currency, {}).get("total_minor", 0),
                       "fee": billed.get(row.currency, {}).get("fee_minor", 0)} for row in totals],
            "queue": selectors.review_queue(network=self.network, merchant_id=self.actor.merchant_id),
            "performance_chart": self.count_chart(_("Performance per day"), found, {
                "clicks": _("Clicks"), "conversions": _("Conversions"), "approved_conversions": _("Approved")}),
            "revenue_chart": self.money_chart(_("Sales driven per day (%(currency)s)") % {"currency": main}, found,
                                              {"sale_amount_minor": _("Sales"), "commission_minor": _("Commission")},
                                              main),
            "funnel_chart": charts.bar_chart(
                title=_("Conversion funnel"), labels=[_("Clicks"), _("Conversions"), _("Approved")],
                values=[overall.clicks, overall.conversions, overall.approved_conversions], y_label=_("count")),
            "affiliates": selectors.top(selectors.performance(found, "affiliate", network=self.network), limit=20),
            "programs": selectors.top(selectors.performance(found, "program", network=self.network), limit=50),
        })
        return context


class ConsoleReportsView(StaffView, ReportPage):
    """The network console: GMV, fee revenue, counts, payout liabilities, fraud and held value, funding."""

    template_name = "reports/console.html"
    area_prefix = "/console/reports/"
    tables = ("day", "program", "affiliate", "country", "device")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        date_range, currency = kwargs["date_range"], kwargs["currency"]
        found = selectors.rollups(actor=self.actor, date_range=date_range, currency=currency,
                                  program_id=kwargs["program_id"])
        totals = selectors.totals(found)
        main = self.main_currency(totals, currency, self.network.default_currency)
        context = self.base_context(date_range=date_range, currency=currency, found=found)
        revenue = selectors.ledger_activity(network=self.network, date_range=date_range)
        context.update({
            "totals": totals, "overall": selectors.combined(totals), "main_currency": main, "has_data": bool(totals),
            "revenue": sorted((cur, row["fee_minor"]) for cur, row in revenue.items()),
            "counts": selectors.network_counts(network=self.network),
            "liabilities": sorted(selectors.payout_liabilities(network=self.network).items()),
            "flagged": selectors.flagged_conversions(network=self.network, date_range=date_range),
            "held": selectors.held_value(network=self.network),
            "funding": selectors.funding_overview(network=self.network),
            "queue": selectors.review_queue(network=self.network, merchant_id=None),
            "gmv_chart": self.money_chart(_("GMV per day (%(currency)s)") % {"currency": main}, found,
                                          {"sale_amount_minor": _("GMV")}, main),
            "traffic_chart": self.count_chart(_("Traffic per day"), found,
                                              {"clicks": _("Clicks"), "conversions": _("Conversions")}),
            "programs": selectors.top(selectors.performance(found, "program", network=self.network), limit=50),
            "affiliates": selectors.top(selectors.performance(found, "affiliate", network=self.network), limit=20),
        })
        return context


# --- CSV exports ----------------------------------------------------------------------------------

class _Echo:
    """A file-like object whose write returns the line, for csv.writer inside a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas: sub-IDs and labels come from URLs anyone can craft."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


PERFORMANCE_HEADER = ["key", "label", "currency", "clicks", "unique_clicks", "conversions", "pending_conversions",
                      "approved_conversions", "reversed_conversions", "conversion_rate_percent", "epc", "commission",
                      "pending_commission", "approved_commission", "paid_commission", "sale_amount"]


def performance_lines(rows: Iterable[Figures]) -> Iterator[list[Any]]:
    yield PERFORMANCE_HEADER
    for row in rows:
        currency = row.currency
        major = lambda minor, currency=currency: money.to_major(minor, currency)  # noqa: E731
        yield [row.key.isoformat() if hasattr(row.key, "isoformat") else row.key, row.label, row.currency,
               row.clicks, row.unique_clicks, row.conversions, row.pending_conversions, row.approved_conversions,
               row.reversed_conversions, row.conversion_rate, major(row.epc_minor), major(row.commission_minor),
               major(row.pending_commission_minor), major(row.approved_commission_minor),
               major(row.paid_commission_minor), major(row.sale_amount_minor)]


CLICK_COLUMNS = ["created_at", "click_id", "program_id", "affiliate_id", "link_id", "sub1", "sub2", "sub3", "sub4",
                 "sub5", "country", "device", "is_unique"]
CONVERSION_COLUMNS = ["occurred_at", "id", "program_id", "affiliate_id", "link_id", "order_id", "action", "status",
                      "amount_minor", "commission_minor", "currency", "sub1", "sub2", "sub3", "sub4", "sub5"]


def raw_lines(queryset: Any, columns: list[str], chunk_size: int) -> Iterator[list[Any]]:
    money_columns = {"amount_minor": "amount", "commission_minor": "commission"}
    yield [money_columns.get(name, name) for name in columns]
    currency_at = columns.index("currency") if "currency" in columns else None
    for values in queryset.values_list(*columns).iterator(chunk_size=chunk_size):
        row = list(values)
        if currency_at is not None:
            for index, name in enumerate(columns):
                if name in money_columns:
                    row[index] = money.to_major(row[index], row[currency_at])
        yield [value.isoformat() if hasattr(value, "isoformat") else value for value in row]


class ExportMixin:
    """GET <area>/reports/export/<table>.csv — one table of the dashboard (rollups) or raw clicks/conversions."""

    tables: ClassVar[tuple[str, ...]]
    chunk_size: ClassVar[int] = 2000
    network: Any
    actor: Any
    request: HttpRequest

    def get(self, request: HttpRequest, table: str) -> HttpResponse:
        if table not in (*self.tables, "clicks", "conversions"):
            raise Http404("No such table.")
        try:
            filters = ReportPage.filters(self)  # type: ignore[arg-type]
        except ValidationError as error:
            return HttpResponse("; ".join(f"{field}: {' '.join(messages)}" for field, messages
                                          in error.message_dict.items()), status=400,
                                content_type="text/plain; charset=utf-8")
        date_range: DateRange = filters["date_range"]
        if table == "clicks":
            queryset = selectors.raw_clicks(actor=self.actor, date_range=date_range)
            if filters["program_id"]:
                queryset = queryset.filter(program_id=filters["program_id"])
            lines = raw_lines(queryset, CLICK_COLUMNS, self.chunk_size)
        elif table == "conversions":
            queryset = selectors.raw_conversions(actor=self.actor, date_range=date_range)
            if filters["program_id"]:
                queryset = queryset.filter(program_id=filters["program_id"])
            if filters["currency"]:
                queryset = queryset.filter(currency=filters["currency"])
            lines = raw_lines(queryset, CONVERSION_COLUMNS, self.chunk_size)
        else:
            found = selectors.rollups(actor=self.actor, date_range=date_range, currency=filters["currency"],
                                      program_id=filters["program_id"])
            lines = performance_lines(selectors.iter_performance(found, table, network=self.network,
                                                                 chunk_size=self.chunk_size))
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse((writer.writerow([csv_safe(value) for value in line]) for line in lines),
                                         content_type="text/csv; charset=utf-8")
        filename = f"{table}-{date_range.start.isoformat()}-{date_range.end.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class PortalExportView(AffiliateView, ExportMixin):
    """CSV of one table of the affiliate's dashboard, or the affiliate's raw clicks / conversions."""

    tables = PortalReportsView.tables


class MerchantExportView(MerchantView, ExportMixin):
    """CSV of one table of the merchant's dashboard, or raw clicks / conversions of the merchant's programs."""

    tables = MerchantReportsView.tables


class ConsoleExportView(StaffView, ExportMixin):
    """CSV of one table of the console's reports, or the network's raw clicks / conversions."""

    tables = ConsoleReportsView.tables

