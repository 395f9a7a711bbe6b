"""Conversions API: merchants post their conversions; everyone reads within scope."""

from typing import ClassVar

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from merchants.models import Program
from network.actors import MERCHANT, STAFF
from network.api.base import NetworkScopedViewSet
from network.api.filters import UtcIsoDateTimeFilter
from tracking import services
from tracking.api import serializers
from tracking.api.lifecycle import ConversionLifecycleActions
from tracking.models import Conversion


class ConversionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Conversion.Status.choices)
    # Bounded: an id beyond 64 bits is a 400, not a database overflow.
    program = django_filters.NumberFilter(field_name="program_id", min_value=1, max_value=2**63 - 1)
    affiliate = django_filters.NumberFilter(field_name="affiliate_id", min_value=1, max_value=2**63 - 1)
    source = django_filters.ChoiceFilter(choices=Conversion.Source.choices)
    order_id = django_filters.CharFilter(field_name="order_id")
    occurred_from = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_to = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    # Day-granular aliases (the contract's `from`/`to`), inclusive of both days.
    date_from = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__gte", label="from")
    date_to = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__lte", label="to")

    class Meta:
        model = Conversion
        fields: ClassVar[list[str]] = []


class ConversionViewSet(ConversionLifecycleActions, NetworkScopedViewSet, mixins.ListModelMixin,
                        mixins.RetrieveModelMixin):
    """GET lists conversions within scope; POST records one (merchant for own programs, staff for any)."""

    queryset = Conversion.objects.select_related("click").order_by("-occurred_at", "-id")
    serializer_class = serializers.ConversionSerializer
    filterset_class = ConversionFilter
    merchant_field = "merchant_id"
    affiliate_field = "affiliate_id"
    required_scope = "conversions"
    ordering_fields: ClassVar[list[str]] = ["occurred_at", "created_at", "amount_minor", "commission_minor"]

    @extend_schema(request=serializers.ConversionInputSerializer, responses=serializers.ConversionSerializer)
    def create(self, request: Request) -> Response:
        if self.actor.kind not in (MERCHANT, STAFF):
            raise exceptions.PermissionDenied("Only merchants (and network staff) report conversions.")
        incoming = serializers.ConversionInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        # The network comes along: the service needs it (time zone, outbox) and it costs no extra query here.
        programs = Program.objects.for_network(self.network).select_related("network")
        if self.actor.kind == MERCHANT:
            programs = programs.filter(merchant_id=self.actor.merchant_id)
        program = programs.filter(pk=data["program"]).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        conversion, created = services.record_conversion(
            program=program, order_id=data["order_id"], amount=data["amount"], currency=data["currency"],
            action=data["action"], occurred_at=data["occurred_at"] or None, source=Conversion.Source.API,
            click_id=data["click_id"], coupon=data["coupon"], customer_id=data["customer_id"],
            customer_email=data["customer_email"])
        body = self.get_serializer(conversion).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
