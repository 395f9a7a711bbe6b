"""Payouts API: balances, merchant funding (staff), invoices, payout profile, batches and payouts."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from network import money
from network.actors import AFFILIATE, MERCHANT, STAFF
from network.api.base import NetworkScopedAPIView, NetworkScopedViewSet
from network.api.pagination import PageNumberPagination
from payouts import payout_selectors, payout_services, selectors, services
from payouts.api import serializers
from payouts.models import Invoice, InvoiceLine, MerchantFunding, Payout, PayoutBatch


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


class PayoutProfileView(NetworkScopedAPIView):
    """The calling affiliate's own payout profile (method, details, currency, threshold, tax)."""

    allowed_actor_kinds = frozenset({AFFILIATE})
    required_scope = "payouts"

    def _body(self) -> dict[str, Any]:
        profile = payout_selectors.profile_for(network=self.network, affiliate_id=self.actor.affiliate_id)
        from affiliates.models import Affiliate

        affiliate = Affiliate.objects.for_network(self.network).get(pk=self.actor.affiliate_id)
        return serializers.profile_to_api(network=self.network, profile=profile,
                                          reasons=payout_services.hold_reasons(profile=profile, affiliate=affiliate))

    @extend_schema(responses=serializers.PayoutProfileSerializer)
    def get(self, request: Request) -> Response:
        return Response(self._body())

    @extend_schema(request=serializers.PayoutProfileInputSerializer, responses=serializers.PayoutProfileSerializer)
    def put(self, request: Request) -> Response:
        data = serializers.PayoutProfileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        payout_services.save_payout_profile(
            network=self.network, affiliate_id=self.actor.affiliate_id, method=values["method"],
            details=values["details"], currency=values["currency"], threshold=values.get("threshold"),
            tax=values["tax"], actor=request.user)
        return Response(self._body())


class PayoutBatchViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Payout batches for review; owners and admins approve (maker-checker when the network requires it)."""

    allowed_actor_kinds = frozenset({STAFF})
    required_scope = "payouts"
    queryset = PayoutBatch.objects.prefetch_related("payouts").order_by("-built_at", "-pk")
    serializer_class = serializers.PayoutBatchSerializer
    filterset_fields = ["status", "period_key"]

    @extend_schema(request=None, responses=serializers.PayoutBatchSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        self.require_network_manager()
        batch = payout_services.approve_payout_batch(network=self.network, batch_id=self.get_object().pk,
                                                     actor=request.user)
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(self.get_serializer(batch).data)


class PayoutViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Payouts: staff see all, an affiliate its own; `remove` takes one out of a batch in review."""

    allowed_actor_kinds = frozenset({STAFF, AFFILIATE})
    required_scope = "payouts"
    queryset = Payout.objects.order_by("-created_at", "-pk")
    serializer_class = serializers.PayoutSerializer
    affiliate_field = "affiliate_id"
    filterset_fields = ["batch", "status", "currency", "method", "affiliate"]

    @extend_schema(request=None, responses=serializers.PayoutSerializer)
    @action(detail=True, methods=["post"])
    def remove(self, request: Request, pk: str) -> Response:
        if not self.actor.is_staff:
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied("Only network staff may change a batch.")
        self.require_network_manager()
        payout = payout_services.remove_payout(network=self.network, payout_id=self.get_object().pk,
                                               actor=request.user, reason=str(request.data.get("reason") or ""))
        return Response(self.get_serializer(payout).data)
