"""Payouts API: balances, merchant funding (staff), invoices."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from network import money
from network.actors import AFFILIATE, MERCHANT, STAFF
from network.api.base import NetworkScopedAPIView, NetworkScopedViewSet
from network.api.pagination import PageNumberPagination
from payouts import selectors, services
from payouts.api import serializers
from payouts.models import Invoice, InvoiceLine, MerchantFunding


def _id_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({name: ["Give a numeric id."]}) from None


class BalanceView(NetworkScopedAPIView):
    """Balances derived from the ledger: an affiliate's own, a merchant's own, or (staff) anyone's."""

    required_scope = "balances"

    @extend_schema(parameters=[OpenApiParameter("affiliate", int), OpenApiParameter("merchant", int)],
                   responses=serializers.BalancePageSerializer)
    def get(self, request: Request) -> Response:
        actor = self.actor
        rows: list[dict[str, Any]]
        if actor.kind == AFFILIATE:
            rows = [serializers.affiliate_balance_to_api(balance) for balance in
                    selectors.affiliate_balances(network=self.network, affiliate_ids=[actor.affiliate_id])]
        elif actor.kind == MERCHANT or (actor.kind == STAFF and _id_param(request, "merchant") is not None):
            merchant_id = actor.merchant_id if actor.kind == MERCHANT else _id_param(request, "merchant")
            balances = selectors.merchant_balances(network=self.network, merchant_ids=[merchant_id])
            rows = [serializers.merchant_balance_to_api(m, c, v) for (m, c), v in sorted(balances.items())]
        else:
            affiliate_id = _id_param(request, "affiliate")
            rows = [serializers.affiliate_balance_to_api(balance) for balance in selectors.affiliate_balances(
                network=self.network, affiliate_ids=[affiliate_id] if affiliate_id is not None else None)]
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(page)


class MerchantFundingViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Prepayments into merchants' balances; staff record bank transfers (idempotent by reference)."""

    allowed_actor_kinds = frozenset({STAFF})
    required_scope = "funding"
    queryset = MerchantFunding.objects.select_related("merchant").order_by("-received_at", "-pk")
    serializer_class = serializers.MerchantFundingSerializer
    filterset_fields = ["merchant", "currency", "method"]

    @extend_schema(request=serializers.MerchantFundingInputSerializer,
                   responses=serializers.MerchantFundingSerializer)
    def create(self, request: Request) -> Response:
        data = serializers.MerchantFundingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            amount_minor = money.to_minor(values["amount"], values["currency"])
        except ValidationError as error:
            field = "currency" if error.code == "invalid_currency" else "amount"
            raise ValidationError({field: error.messages}) from None
        funding, created = services.record_merchant_funding(
            network=self.network, merchant_id=values["merchant"], amount_minor=amount_minor,
            currency=values["currency"], reference=values["reference"], note=values["note"],
            received_at=values.get("received_at"), actor=request.user,
        )
        return Response(serializers.MerchantFundingSerializer(funding).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class InvoiceViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Merchants' monthly invoices: a merchant reads its own, staff read all."""

    required_scope = "invoices"
    queryset = Invoice.objects.prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.select_related("invoice"))).order_by("-number")
    serializer_class = serializers.InvoiceSerializer
    merchant_field = "merchant_id"
    filterset_fields = ["merchant", "currency", "period_start"]
