"""API of the conversion lifecycle and of claims.

`ConversionLifecycleActions` is mixed into the conversion viewset: approve, reject, hold, release,
reverse (`POST /api/v1/conversions/{id}/…/`), bulk decisions and the CSV decline upload. Decisions
are for merchant admins (own programs) and network staff; analysts and affiliates get a 403, and a
conversion outside the caller's scope is a 404 (the viewset's scoped `get_object`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.models import Enrollment
from merchants.models import MerchantMembership, Program
from network import money
from network.actors import AFFILIATE, MERCHANT, STAFF
from network.api.base import NetworkScopedViewSet
from network.api.errors import error_body
from tracking import claims, lifecycle
from tracking.models import ConversionClaim, ReasonCode


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    reason_code = serializers.ChoiceField(choices=ReasonCode.choices, required=False, allow_blank=True, default="")


class ReverseSerializer(DecisionSerializer):
    amount = serializers.CharField(max_length=32, required=False, allow_blank=True, default="",
                                   help_text="Part of the sale to reverse (decimal string); omit for all of it.")


class BulkSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1,
                                max_length=lifecycle.MAX_BULK_IDS)
    action = serializers.ChoiceField(choices=[(name, name) for name in lifecycle.BULK_ACTIONS])
    reason_code = serializers.ChoiceField(choices=ReasonCode.choices, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class DeclineCsvSerializer(serializers.Serializer):
    file = serializers.FileField()
    reason_code = serializers.ChoiceField(choices=ReasonCode.choices, required=False, allow_blank=True, default="")
    all_or_nothing = serializers.BooleanField(required=False, default=False)


class RowResultSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    order_id = serializers.CharField()
    id = serializers.IntegerField(allow_null=True)
    result = serializers.CharField()
    message = serializers.CharField()


class RowResultsSerializer(serializers.Serializer):
    results = RowResultSerializer(many=True)
    counts = serializers.DictField(child=serializers.IntegerField())


def _report(results: list[lifecycle.RowResult]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.result] = counts.get(result.result, 0) + 1
    return {"results": [result.as_dict() for result in results], "counts": counts}


def require_decider(view: Any) -> None:
    """Merchant admins and staff decide; analysts and affiliates read only."""
    actor = view.actor
    if actor.kind == STAFF:
        return
    if actor.kind == MERCHANT and actor.role == MerchantMembership.Role.ADMIN:
        return
    raise exceptions.PermissionDenied("Only merchant admins and network staff decide on conversions.")


class ConversionLifecycleActions:
    """The lifecycle actions of the conversion viewset (mixed into tracking.api.views.ConversionViewSet)."""

    def _decide(self, request: Request, service: Any, **extra: Any) -> Response:
        require_decider(self)
        conversion = self.get_object()  # type: ignore[attr-defined]
        incoming = DecisionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        changed = service(network=self.network, conversion_id=conversion.pk,  # type: ignore[attr-defined]
                          actor=request.user, reason=incoming.validated_data["reason"], **extra,
                          **({"reason_code": incoming.validated_data["reason_code"]}
                             if service is not lifecycle.release_conversion else {}))
        return Response(self.get_serializer(changed).data)  # type: ignore[attr-defined]

    @extend_schema(request=DecisionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, lifecycle.approve_conversion)

    @extend_schema(request=DecisionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, lifecycle.reject_conversion)

    @extend_schema(request=DecisionSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, lifecycle.hold_conversion)

    @extend_schema(request=DecisionSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, lifecycle.release_conversion)

    @extend_schema(request=ReverseSerializer)
    @action(detail=True, methods=["post"])
    def reverse(self, request: Request, pk: str | None = None) -> Response:
        require_decider(self)
        conversion = self.get_object()  # type: ignore[attr-defined]
        incoming = ReverseSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        amount_minor = None
        if data["amount"].strip():
            try:
                amount_minor = money.to_minor(data["amount"].strip(), conversion.currency)
            except ValidationError as error:
                raise ValidationError({"amount": error.messages}) from None
        changed = lifecycle.reverse_conversion(
            network=self.network, conversion_id=conversion.pk, actor=request.user,  # type: ignore[attr-defined]
            reason=data["reason"], reason_code=data["reason_code"], amount_minor=amount_minor)
        return Response(self.get_serializer(changed).data)  # type: ignore[attr-defined]

    @extend_schema(request=BulkSerializer, responses=RowResultsSerializer)
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        require_decider(self)
        incoming = BulkSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        results = lifecycle.bulk_decide(
            network=self.network, scope=self.get_queryset(), ids=data["ids"],  # type: ignore[attr-defined]
            action=data["action"], actor=request.user, reason=data["reason"], reason_code=data["reason_code"])
        return Response(_report(results))

    @extend_schema(request={"multipart/form-data": DeclineCsvSerializer}, responses=RowResultsSerializer)
    @action(detail=False, methods=["post"], url_path="decline-csv",
            parser_classes=[MultiPartParser, FormParser, JSONParser])
    def decline_csv(self, request: Request) -> Response:
        require_decider(self)
        incoming = DeclineCsvSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        upload = data["file"]
        if upload.size > lifecycle.MAX_CSV_BYTES:
            raise ValidationError({"file": ["The file is larger than 2 MB."]})
        try:
            results = lifecycle.decline_from_csv(
                network=self.network, scope=self.get_queryset(), content=upload.read(),  # type: ignore[attr-defined]
                actor=request.user, default_reason_code=data["reason_code"],
                all_or_nothing=data["all_or_nothing"])
        except lifecycle.CsvRejected as rejected:
            body = error_body("invalid", "No row was declined because at least one row failed (all or nothing).",
                              {"file": ["At least one row failed; see results."]})
            return Response({**body, **_report(rejected.rows)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(_report(results))


class ClaimSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField()

    class Meta:
        model = ConversionClaim
        fields = ["id", "program", "affiliate", "order_id", "order_date", "amount", "currency", "note", "status",
                  "conversion", "answer", "reason_code", "answered_at", "created_at"]
        read_only_fields = fields

    def get_amount(self, obj: ConversionClaim) -> str:
        return money.to_major(obj.amount_minor, obj.currency)


class ClaimInputSerializer(serializers.Serializer):
    program = serializers.IntegerField()
    order_id = serializers.CharField(max_length=128)
    order_date = serializers.CharField(max_length=10)
    amount = serializers.CharField(max_length=32)
    currency = serializers.CharField(max_length=3)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ClaimAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    reason_code = serializers.ChoiceField(choices=ReasonCode.choices, required=False, allow_blank=True, default="")


class ClaimFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ConversionClaim.Status.choices)
    # Bounded: an id beyond 64 bits is a 400, not a database overflow.
    program = django_filters.NumberFilter(field_name="program_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = ConversionClaim
        fields: ClassVar[list[str]] = []


class ClaimViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Affiliates open claims and read their answers; merchants (own programs) and staff answer them."""

    queryset = ConversionClaim.objects.order_by("-created_at", "-id")
    serializer_class = ClaimSerializer
    filterset_class = ClaimFilter
    merchant_field = "merchant_id"
    affiliate_field = "affiliate_id"
    required_scope = "conversions"

    @extend_schema(request=ClaimInputSerializer, responses=ClaimSerializer)
    def create(self, request: Request) -> Response:
        if self.actor.kind != AFFILIATE:
            raise exceptions.PermissionDenied("Affiliates open claims.")
        incoming = ClaimInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        enrolled = Enrollment.objects.for_network(self.network).filter(affiliate_id=self.actor.affiliate_id)
        program = Program.objects.for_network(self.network).filter(
            pk=data["program"], pk__in=enrolled.values("program_id")).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        claim = claims.open_claim(network=self.network, affiliate_id=self.actor.affiliate_id, program=program,
                                  order_id=data["order_id"], order_date=data["order_date"], amount=data["amount"],
                                  currency=data["currency"], note=data["note"], actor=request.user)
        return Response(self.get_serializer(claim).data, status=status.HTTP_201_CREATED)

    def _answer(self, request: Request, accept: bool) -> Response:
        require_decider(self)
        claim = self.get_object()
        incoming = ClaimAnswerSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if accept:
            claim = claims.accept_claim(network=self.network, claim_id=claim.pk, actor=request.user,
                                        answer=data["answer"])
        else:
            claim = claims.reject_claim(network=self.network, claim_id=claim.pk, actor=request.user,
                                        answer=data["answer"], reason_code=data["reason_code"])
        return Response(self.get_serializer(claim).data)

    @extend_schema(request=ClaimAnswerSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(request, accept=True)

    @extend_schema(request=ClaimAnswerSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(request, accept=False)
