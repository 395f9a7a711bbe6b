"""Webhooks API: endpoints (each owner sees their own), their deliveries, redelivery, affiliate postbacks."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from network.actors import AFFILIATE
from network.api.base import NetworkScopedViewSet
from webhooks import services
from webhooks.api import serializers
from webhooks.models import AffiliatePostback, WebhookDelivery, WebhookEndpoint


class WebhookEndpointViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Outbound webhook endpoints of the caller: staff's, their merchant's or their affiliate's."""

    queryset = WebhookEndpoint.objects.order_by("-created_at", "-id")
    serializer_class = serializers.WebhookEndpointSerializer
    required_scope = "webhooks"
    merchant_field = "owner_id"
    affiliate_field = "owner_id"
    filterset_fields = ["is_active"]
    ordering_fields = ["created_at", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped_queryset(self, queryset: QuerySet) -> QuerySet:
        # owner_id alone is ambiguous (merchant 5 vs affiliate 5); staff see the staff's endpoints.
        return queryset.filter(owner_kind=self.actor.kind)

    @extend_schema(request=serializers.WebhookEndpointWriteSerializer,
                   responses={201: serializers.WebhookEndpointWithSecretSerializer})
    def create(self, request: Request) -> Response:
        incoming = serializers.WebhookEndpointWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        endpoint = services.create_endpoint(network=self.network, owner_kind=self.actor.kind,
                                            owner_id=self.actor.actor_id, actor=request.user,
                                            **incoming.validated_data)
        return Response(serializers.WebhookEndpointWithSecretSerializer(endpoint).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.WebhookEndpointUpdateSerializer,
                   responses=serializers.WebhookEndpointSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        endpoint = self.get_object()
        incoming = serializers.WebhookEndpointUpdateSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        endpoint = services.update_endpoint(network=self.network, endpoint_id=endpoint.pk, actor=request.user,
                                            **incoming.validated_data)
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        services.delete_endpoint(network=self.network, endpoint_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=serializers.WebhookEndpointWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str) -> Response:
        """Issue a new secret (shown once); the old one keeps signing alongside for 24 hours."""
        endpoint = services.rotate_endpoint_secret(network=self.network, endpoint_id=self.get_object().pk,
                                                   actor=request.user)
        return Response(serializers.WebhookEndpointWithSecretSerializer(endpoint).data)

    @extend_schema(responses=serializers.WebhookDeliverySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str) -> Response:
        """The endpoint's delivery log, newest first."""
        endpoint = self.get_object()
        queryset = (WebhookDelivery.objects.for_network(self.network).filter(endpoint=endpoint)
                    .select_related("event").order_by("-created_at", "-id"))
        page = self.paginate_queryset(queryset)
        data = serializers.WebhookDeliverySerializer(page, many=True).data
        return self.get_paginated_response(data)


class WebhookDeliveryViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Deliveries to the caller's endpoints; `redeliver` queues one again."""

    queryset = WebhookDelivery.objects.select_related("event").order_by("-created_at", "-id")
    serializer_class = serializers.WebhookDeliverySerializer
    required_scope = "webhooks"
    merchant_field = "endpoint__owner_id"
    affiliate_field = "endpoint__owner_id"
    filterset_fields = ["status", "endpoint"]
    ordering_fields = ["created_at", "id"]

    def scoped_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(endpoint__owner_kind=self.actor.kind)

    @extend_schema(request=None, responses=serializers.WebhookDeliverySerializer)
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str) -> Response:
        """Send the event to the endpoint again, with a fresh retry schedule."""
        delivery = services.redeliver_webhook(network=self.network, delivery_id=self.get_object().pk,
                                              actor=request.user)
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(self.get_serializer(delivery).data)


class AffiliatePostbackViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """An affiliate's GET postback URLs, fired on their conversions."""

    queryset = AffiliatePostback.objects.order_by("-created_at", "-id")
    serializer_class = serializers.AffiliatePostbackSerializer
    allowed_actor_kinds = frozenset({AFFILIATE})
    required_scope = "postbacks"
    affiliate_field = "affiliate_id"
    filterset_fields = ["is_active"]
    ordering_fields = ["created_at", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(request=serializers.AffiliatePostbackWriteSerializer,
                   responses={201: serializers.AffiliatePostbackSerializer})
    def create(self, request: Request) -> Response:
        incoming = serializers.AffiliatePostbackWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(incoming.validated_data)
        postback = services.create_postback(network=self.network, affiliate_id=self.actor.affiliate_id,
                                            program_id=data.pop("program"), actor=request.user, **data)
        return Response(self.get_serializer(postback).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.AffiliatePostbackUpdateSerializer,
                   responses=serializers.AffiliatePostbackSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        postback = self.get_object()
        incoming = serializers.AffiliatePostbackUpdateSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(incoming.validated_data)
        if "program" in data:
            data["program_id"] = data.pop("program")
        postback = services.update_postback(network=self.network, postback_id=postback.pk, actor=request.user,
                                            **data)
        return Response(self.get_serializer(postback).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        services.delete_postback(network=self.network, postback_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
