"""Affiliates API: affiliate organisations (staff), marketplace, applications, links, coupons."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates import selectors, services
from affiliates.api import serializers
from affiliates.models import Affiliate, Coupon, Enrollment, ProgramInvitation, TrackingLink
from merchants.models import CommissionRule, MerchantMembership, Program
from network.actors import AFFILIATE, MERCHANT, STAFF
from network.api.base import NetworkScopedAPIView, NetworkScopedViewSet
from network.api.pagination import PageNumberPagination


def _refuse_read_only_merchant(view: NetworkScopedAPIView) -> None:
    # Merchant analysts read; only merchant admins (and staff) decide.
    if view.actor.kind == MERCHANT and view.actor.role != MerchantMembership.Role.ADMIN:
        raise exceptions.PermissionDenied("Merchant analysts cannot change this.")


class AffiliateFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Affiliate.Status.choices)
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")

    class Meta:
        model = Affiliate
        fields = ["status", "country", "kind"]


class AffiliateViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Network staff list, create, approve, suspend and reinstate affiliates."""

    queryset = Affiliate.objects.order_by("name", "pk")
    serializer_class = serializers.AffiliateSerializer
    filterset_class = AffiliateFilter
    allowed_actor_kinds = frozenset({STAFF})
    required_scope = "affiliates"

    @extend_schema(request=serializers.AffiliateCreateSerializer, responses={201: serializers.AffiliateSerializer})
    def create(self, request: Request) -> Response:
        incoming = serializers.AffiliateCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        affiliate, invitation = services.create_affiliate(network=self.network, actor=request.user,
                                                          **incoming.validated_data)
        body = dict(self.get_serializer(affiliate).data)
        body["owner_invited"] = invitation is not None
        return Response(body, status=status.HTTP_201_CREATED)

    def _move(self, request: Request, to_status: str, from_status: str | None = None) -> Response:
        incoming = serializers.ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        affiliate = services.change_affiliate_status(network=self.network, affiliate_id=self.get_object().pk,
                                                     to_status=to_status, actor=request.user,
                                                     reason=incoming.validated_data["reason"],
                                                     from_status=from_status)
        return Response(self.get_serializer(affiliate).data)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.AffiliateSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._move(request, Affiliate.Status.ACTIVE, from_status=Affiliate.Status.PENDING)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.AffiliateSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str) -> Response:
        return self._move(request, Affiliate.Status.SUSPENDED)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.AffiliateSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request: Request, pk: str) -> Response:
        return self._move(request, Affiliate.Status.ACTIVE, from_status=Affiliate.Status.SUSPENDED)


class MarketplaceView(NetworkScopedAPIView):
    """Active programs the affiliate may see, with terms and 90-day figures; filters: q, category,
    commission_type, min_cookie_days, currency."""

    allowed_actor_kinds = frozenset({AFFILIATE, STAFF})
    required_scope = "marketplace"

    @extend_schema(parameters=[
        OpenApiParameter("q", str), OpenApiParameter("category", str),
        OpenApiParameter("commission_type", str, enum=CommissionRule.Type.values),
        OpenApiParameter("min_cookie_days", int), OpenApiParameter("currency", str),
    ], responses=serializers.MarketplacePageSerializer)
    def get(self, request: Request) -> Response:
        params = request.query_params
        commission_type = params.get("commission_type", "")
        if commission_type and commission_type not in CommissionRule.Type.values:
            raise exceptions.ValidationError({"commission_type": [
                f"Use one of {', '.join(CommissionRule.Type.values)}."]})
        min_cookie_days = None
        if params.get("min_cookie_days"):
            try:
                min_cookie_days = int(params["min_cookie_days"])
            except ValueError:
                raise exceptions.ValidationError({"min_cookie_days": ["Give a whole number of days."]}) from None
        programs = selectors.marketplace_programs(
            network=self.network, affiliate_id=self.actor.affiliate_id, text=params.get("q", "").strip(),
            category=params.get("category", "").strip(), commission_type=commission_type,
            min_cookie_days=min_cookie_days, currency=params.get("currency", "").strip())
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(programs, request, view=self)
        context = {"request": request, "payout_methods": selectors.network_payout_methods(self.network)}
        data = serializers.MarketplaceProgramSerializer(page, many=True, context=context).data
        return paginator.get_paginated_response(data)


class ApplyView(NetworkScopedAPIView):
    """An affiliate applies to a program they can see (404 otherwise)."""

    allowed_actor_kinds = frozenset({AFFILIATE})
    required_scope = "enrollments"

    @extend_schema(request=serializers.ApplySerializer, responses={201: serializers.EnrollmentSerializer,
                                                                   200: serializers.EnrollmentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        incoming = serializers.ApplySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            enrollment, created = services.apply_to_program(
                network=self.network, affiliate_id=self.actor.affiliate_id, program_id=pk, actor=request.user,
                **incoming.validated_data)
        except Program.DoesNotExist:
            raise exceptions.NotFound() from None
        return Response(serializers.EnrollmentSerializer(enrollment).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class EnrollmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Enrollment.Status.choices)

    class Meta:
        model = Enrollment
        fields = ["status", "program", "affiliate"]


class EnrollmentViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Enrollments: merchants see their programs', affiliates their own, staff all; merchants and staff decide."""

    queryset = Enrollment.objects.all()
    serializer_class = serializers.EnrollmentSerializer
    filterset_class = EnrollmentFilter
    merchant_field = "program__merchant_id"
    affiliate_field = "affiliate_id"
    required_scope = "enrollments"

    def scoped_queryset(self, queryset: Any) -> Any:
        return selectors.enrollments_for_actor(queryset)

    def _decide(self, request: Request, service: Any) -> Response:
        enrollment = self.get_object()
        if self.actor.kind == AFFILIATE:
            raise exceptions.PermissionDenied("Only the program's merchant or network staff decide.")
        _refuse_read_only_merchant(self)
        incoming = serializers.ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        enrollment = service(network=self.network, enrollment_id=enrollment.pk, actor=request.user,
                             reason=incoming.validated_data["reason"])
        return Response(self.get_serializer(enrollment).data)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.EnrollmentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.approve_enrollment)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.EnrollmentSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.reject_enrollment)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.EnrollmentSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.suspend_enrollment)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.EnrollmentSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.reinstate_enrollment)

    @extend_schema(request=None, responses=serializers.EnrollmentSerializer)
    @action(detail=True, methods=["post"], url_path="accept-terms")
    def accept_terms(self, request: Request, pk: str) -> Response:
        enrollment = self.get_object()
        if self.actor.kind != AFFILIATE:
            raise exceptions.PermissionDenied("Only the affiliate accepts a program's terms.")
        enrollment = services.accept_terms(network=self.network, enrollment_id=enrollment.pk,
                                           affiliate_id=self.actor.affiliate_id, actor=request.user)
        return Response(self.get_serializer(enrollment).data)

    @extend_schema(responses=serializers.EnrollmentEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str) -> Response:
        enrollment = self.get_object()
        return Response(serializers.EnrollmentEventSerializer(enrollment.events.all(), many=True).data)


class LinkFilter(django_filters.FilterSet):
    class Meta:
        model = TrackingLink
        fields = ["program", "is_active"]


class TrackingLinkViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Tracking links: affiliates list and create their own; merchants read their programs'."""

    queryset = TrackingLink.objects.select_related("program", "enrollment").order_by("-created_at", "-pk")
    serializer_class = serializers.TrackingLinkSerializer
    filterset_class = LinkFilter
    affiliate_field = "affiliate_id"
    merchant_field = "program__merchant_id"
    required_scope = "links"

    @extend_schema(request=serializers.LinkCreateSerializer, responses={201: serializers.TrackingLinkSerializer})
    def create(self, request: Request) -> Response:
        if self.actor.kind != AFFILIATE:
            raise exceptions.PermissionDenied("Only affiliates create tracking links.")
        incoming = serializers.LinkCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        link = services.create_tracking_link(
            network=self.network, affiliate_id=self.actor.affiliate_id, program_id=data["program"],
            destination_url=data["destination_url"], label=data["label"], actor=request.user,
            subs={name: data[name] for name in services.SUB_FIELDS})
        link = self.get_queryset().get(pk=link.pk)
        return Response(self.get_serializer(link).data, status=status.HTTP_201_CREATED)


class CouponFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact")

    class Meta:
        model = Coupon
        fields = ["program", "affiliate", "code"]


class CouponViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Coupons: merchants assign codes of their programs to approved affiliates; affiliates read their own."""

    queryset = Coupon.objects.select_related("program", "affiliate").order_by("code", "pk")
    serializer_class = serializers.CouponSerializer
    filterset_class = CouponFilter
    merchant_field = "program__merchant_id"
    affiliate_field = "affiliate_id"
    required_scope = "coupons"

    @extend_schema(request=serializers.CouponCreateSerializer, responses={201: serializers.CouponSerializer})
    def create(self, request: Request) -> Response:
        if self.actor.kind == AFFILIATE:
            raise exceptions.PermissionDenied("Coupons are assigned by the program's merchant.")
        _refuse_read_only_merchant(self)
        incoming = serializers.CouponCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        coupon = services.create_coupon(network=self.network, program_id=data["program"],
                                        affiliate_id=data["affiliate"], code=data["code"],
                                        merchant_id=self.actor.merchant_id, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=coupon.pk)).data,
                        status=status.HTTP_201_CREATED)


class ProgramInvitationViewSet(NetworkScopedViewSet, mixins.ListModelMixin):
    """Merchants invite affiliates to their (private) programs; staff see and make every invitation."""

    queryset = ProgramInvitation.objects.order_by("-created_at", "-pk")
    serializer_class = serializers.ProgramInvitationSerializer
    merchant_field = "program__merchant_id"
    affiliate_field = "affiliate_id"
    allowed_actor_kinds = frozenset({STAFF, MERCHANT})
    required_scope = "enrollments"

    @extend_schema(request=serializers.ProgramInvitationCreateSerializer,
                   responses={201: serializers.ProgramInvitationSerializer})
    def create(self, request: Request) -> Response:
        _refuse_read_only_merchant(self)
        incoming = serializers.ProgramInvitationCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        invitation, created = services.invite_affiliate_to_program(
            network=self.network, program_id=incoming.validated_data["program"],
            affiliate_id=incoming.validated_data["affiliate"], merchant_id=self.actor.merchant_id,
            actor=request.user)
        return Response(self.get_serializer(invitation).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
