"""Merchants API: merchant organisations (staff), programs and their creatives (merchants and staff)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from merchants import services
from merchants.api import serializers
from merchants.models import (
    Creative,
    Merchant,
    MerchantMembership,
    Program,
    ProgramAffiliateRate,
    ProgramTerms,
)
from network import money
from network.actors import MERCHANT, STAFF
from network.api.base import NetworkScopedViewSet

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class MerchantWriteGuardMixin:
    """Merchant analysts are read-only: any unsafe method from one is refused before the handler runs."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        actor = self.actor  # type: ignore[attr-defined]
        if (actor.kind == MERCHANT and actor.role != MerchantMembership.Role.ADMIN
                and request.method not in SAFE_METHODS):
            raise exceptions.PermissionDenied("Analysts have read-only access.")


class MerchantViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Merchant organisations of the network (staff only); create one with its owner's email."""

    queryset = Merchant.objects.select_related("network").order_by("name", "pk")
    serializer_class = serializers.MerchantSerializer
    allowed_actor_kinds = frozenset({STAFF})
    required_scope = "merchants"
    filterset_fields = ["status"]

    @extend_schema(request=serializers.MerchantCreateSerializer, responses={201: serializers.MerchantSerializer})
    def create(self, request: Request) -> Response:
        incoming = serializers.MerchantCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        merchant, invitation = services.create_merchant(network=self.network, actor=request.user,
                                                        **incoming.validated_data)
        body = dict(self.get_serializer(merchant).data)
        body["owner"] = {"email": incoming.validated_data["owner_email"].lower(), "invited": invitation is not None}
        return Response(body, status=status.HTTP_201_CREATED)

    def _move(self, request: Request, to_status: str) -> Response:
        incoming = serializers.MerchantStatusSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        merchant = services.change_merchant_status(network=self.network, merchant_id=self.get_object().pk,
                                                   to_status=to_status, actor=request.user,
                                                   reason=incoming.validated_data["reason"])
        return Response(self.get_serializer(merchant).data)

    @extend_schema(request=serializers.MerchantStatusSerializer, responses=serializers.MerchantSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._move(request, Merchant.Status.ACTIVE)

    @extend_schema(request=serializers.MerchantStatusSerializer, responses=serializers.MerchantSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str) -> Response:
        return self._move(request, Merchant.Status.SUSPENDED)


def _program_changes(data: dict[str, Any], currency: str) -> dict[str, Any]:
    """The validated API body as keyword arguments of the program services."""
    changes: dict[str, Any] = {name: data[name] for name in services.PROGRAM_FIELDS if name in data}
    for name, value in (data.get("fraud") or {}).items():
        changes[name] = value
    if "terms" in data:
        changes["terms"] = dict(data["terms"])
    if "rules" in data:
        changes["rules"] = serializers.rules_from_api(data["rules"], currency)
    if "status" in data:
        changes["status"] = data["status"]
    return changes


class ProgramViewSet(MerchantWriteGuardMixin, NetworkScopedViewSet, mixins.ListModelMixin,
                     mixins.RetrieveModelMixin):
    """Programs: a merchant sees and changes its own, staff every program of the network."""

    queryset = Program.objects.order_by("name", "pk")
    serializer_class = serializers.ProgramSerializer
    allowed_actor_kinds = frozenset({STAFF, MERCHANT})
    required_scope = "programs"
    merchant_field = "merchant_id"
    filterset_fields = ["status", "visibility", "currency", "merchant"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scoped_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related(
            "rules", Prefetch("terms_versions", queryset=ProgramTerms.objects.order_by("-version")))

    def _currency(self, data: dict[str, Any], default: str) -> str:
        currency = data.get("currency", default)
        try:
            money.validate_currency(currency)
        except ValidationError as error:
            raise exceptions.ValidationError({"currency": error.messages}) from None
        return currency

    def _fresh(self, program_id: int) -> Program:
        return self.get_queryset().get(pk=program_id)

    @extend_schema(request=serializers.ProgramWriteSerializer, responses={201: serializers.ProgramSerializer})
    def create(self, request: Request) -> Response:
        incoming = serializers.ProgramWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if self.actor.is_staff:
            if "merchant" not in data:
                raise exceptions.ValidationError({"merchant": ["Staff must name the program's merchant."]})
            merchant_id = data["merchant"]
        else:
            merchant_id = self.actor.merchant_id  # a merchant's programs are its own, whatever the body says
        changes = _program_changes(data, self._currency(data, self.network.default_currency))
        program = services.create_program(network=self.network, merchant_id=merchant_id, actor=request.user,
                                          **changes)
        return Response(self.get_serializer(self._fresh(program.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.ProgramWriteSerializer, responses=serializers.ProgramSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        program = self.get_object()
        incoming = serializers.ProgramWriteSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        if "merchant" in data and data["merchant"] != program.merchant_id:
            raise exceptions.ValidationError({"merchant": ["A program cannot move to another merchant."]})
        changes = _program_changes(data, self._currency(data, program.currency))
        services.update_program(network=self.network, program_id=program.pk, actor=request.user, **changes)
        return Response(self.get_serializer(self._fresh(program.pk)).data)

    @extend_schema(request={"multipart/form-data": serializers.CreativeWriteSerializer,
                            "application/json": serializers.CreativeWriteSerializer},
                   responses={200: serializers.CreativePageSerializer, 201: serializers.CreativeSerializer})
    @action(detail=True, methods=["get", "post"])
    def creatives(self, request: Request, pk: str) -> Response:
        """The program's banners and text links; POST adds one (multipart for an image)."""
        program = self.get_object()
        if request.method == "GET":
            rows = Creative.objects.for_network(self.network).filter(program=program).order_by("-created_at", "-pk")
            page = self.paginate_queryset(rows)
            data = serializers.CreativeSerializer(page, many=True, context={"request": request}).data
            return self.get_paginated_response(data)
        incoming = serializers.CreativeWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        creative = services.create_creative(network=self.network, program_id=program.pk, actor=request.user,
                                            **incoming.validated_data)
        return Response(serializers.CreativeSerializer(creative, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.AffiliateRateWriteSerializer,
                   responses=serializers.AffiliateRatePageSerializer)
    @action(detail=True, methods=["get", "post"], url_path="affiliate-rates")
    def affiliate_rates(self, request: Request, pk: str) -> Response:
        """Private rates of the program's affiliates; POST sets (or replaces) one."""
        program = self.get_object()
        if request.method == "POST":
            incoming = serializers.AffiliateRateWriteSerializer(data=request.data)
            incoming.is_valid(raise_exception=True)
            data = incoming.validated_data
            try:
                amount = money.to_minor(data["amount"], program.currency) if data.get("amount") is not None else None
            except ValidationError as error:
                raise exceptions.ValidationError({"amount": error.messages}) from None
            services.set_affiliate_rate(network=self.network, program_id=program.pk, affiliate_id=data["affiliate"],
                                        action=data["action"], type=data["type"], rate=data.get("rate"),
                                        amount_minor=amount, actor=request.user)
        rates = (ProgramAffiliateRate.objects.for_network(self.network).filter(program=program)
                 .select_related("program").order_by("affiliate_id", "action"))
        page = self.paginate_queryset(rates)
        return self.get_paginated_response(serializers.AffiliateRateSerializer(page, many=True).data)

    @extend_schema(request=None, responses=serializers.ProgramSerializer)
    @action(detail=True, methods=["post"], url_path="regenerate-postback-token")
    def regenerate_postback_token(self, request: Request, pk: str) -> Response:
        """Issue a new postback token; the old one stops working at once."""
        program = services.regenerate_postback_token(network=self.network, program_id=self.get_object().pk,
                                                     actor=request.user)
        return Response(self.get_serializer(self._fresh(program.pk)).data)

