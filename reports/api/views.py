"""GET /api/v1/reports/performance/: the performance table of the dashboards, within the caller's scope."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from network import money
from network.api.base import NetworkScopedAPIView
from network.api.pagination import PageNumberPagination
from reports import selectors
from reports.api.serializers import PerformanceRowSerializer


def _optional_id(params: Any, name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: [_("Enter a whole number (an id).")]}) from None
    if number <= 0:
        raise ValidationError({name: [_("Enter a whole number (an id).")]})
    return number


def report_filters(view: NetworkScopedAPIView, params: Any) -> dict[str, Any]:
    """Validate program/affiliate/currency; an id outside the caller's scope is a 404."""
    from affiliates.models import Affiliate
    from merchants.models import Program

    errors: dict[str, list[str]] = {}
    found: dict[str, Any] = {}
    for name in ("program", "affiliate"):
        try:
            found[f"{name}_id"] = _optional_id(params, name)
        except ValidationError as error:
            errors.update(error.message_dict)
    currency = (params.get("currency") or "").strip().upper() or None
    if currency is not None:
        try:
            money.validate_currency(currency)
        except ValidationError:
            errors["currency"] = [_("Enter an ISO 4217 currency code, e.g. EUR.")]
    if errors:
        raise ValidationError(errors)
    actor, network = view.actor, view.network
    program_id, affiliate_id = found["program_id"], found["affiliate_id"]
    if program_id is not None:
        programs = Program.objects.for_network(network).filter(pk=program_id)
        if actor.is_merchant:
            programs = programs.filter(merchant_id=actor.merchant_id)
        if not programs.exists():
            raise Http404
    if affiliate_id is not None:
        if actor.is_affiliate and affiliate_id != actor.affiliate_id:
            raise Http404
        if not Affiliate.objects.for_network(network).filter(pk=affiliate_id).exists():
            raise Http404
    return {"program_id": program_id, "affiliate_id": affiliate_id, "currency": currency}


class PerformanceView(NetworkScopedAPIView):
    """Clicks, conversions, conversion rate, EPC and commission grouped by day, program, affiliate, link, sub-ID,
    country or device; days in the network's time zone; affiliates see their own rows, merchants their programs."""

    required_scope = "reports"

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", str, enum=list(selectors.GROUP_BYS), description="default day"),
            OpenApiParameter("from", str, description="YYYY-MM-DD, local day, inclusive (default: 29 days ago)"),
            OpenApiParameter("to", str, description="YYYY-MM-DD, local day, inclusive (default: today)"),
            OpenApiParameter("program", int), OpenApiParameter("affiliate", int),
            OpenApiParameter("currency", str),
        ],
        responses=PerformanceRowSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        errors: dict[str, list[str]] = {}
        group_by = date_range = None
        try:
            group_by = selectors.validate_group_by(params.get("group_by"))
        except ValidationError as error:
            errors.update(error.message_dict)
        try:
            date_range = selectors.parse_range(network=self.network, start=params.get("from"), end=params.get("to"))
        except ValidationError as error:
            errors.update(error.message_dict)
        try:
            filters = report_filters(self, params)
        except ValidationError as error:
            errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)
        assert group_by is not None and date_range is not None
        found = selectors.rollups(actor=self.actor, date_range=date_range, **filters)
        rows = selectors.performance(found, group_by, network=self.network)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        response = paginator.get_paginated_response(PerformanceRowSerializer(page, many=True).data)
        response.data.update({"group_by": group_by, "from": date_range.start.isoformat(),
                              "to": date_range.end.isoformat(), "time_zone": date_range.zone,
                              "totals": PerformanceRowSerializer(selectors.totals(found), many=True).data})
        return response
