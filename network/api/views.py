"""Tenancy API: who am I, network settings, API keys."""

from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from network import actors, money, services
from network.actors import STAFF
from network.api import serializers
from network.api.base import NetworkScopedAPIView, NetworkScopedViewSet
from network.models import ApiKey, Membership, Network


class MeView(NetworkScopedAPIView):
    """The caller's network and role."""

    @extend_schema(responses=serializers.MeSerializer)
    def get(self, request: Request) -> Response:
        actor = self.actor
        return Response(serializers.MeSerializer({
            "network": self.network.slug, "network_name": self.network.name, "kind": actor.kind,
            "role": actor.role, "email": actor.user.email, "merchant": actor.merchant_id,
            "affiliate": actor.affiliate_id,
        }).data)


def network_settings_data(network: Network) -> dict[str, Any]:
    """The network's settings in the API's shape (amounts as decimal strings)."""
    if network.fee_type == Network.FeeType.FLAT:
        fee_value = money.to_major(network.fee_flat_minor, network.default_currency)
    else:
        fee_value = f"{network.fee_rate.normalize():f}"
    return {
        "slug": network.slug, "name": network.name, "default_currency": network.default_currency,
        "time_zone": network.time_zone,
        "payout_minimum": money.to_major(network.payout_minimum_minor, network.default_currency),
        "payout_schedule": network.payout_schedule, "payout_day": network.payout_day,
        "payout_net_days": network.payout_net_days,
        "require_payout_maker_checker": network.require_payout_maker_checker,
        "fee": {"type": network.fee_type, "value": fee_value},
        "require_staff_2fa": network.require_staff_2fa, "brand_name": network.brand_name,
        "brand_colour": network.brand_colour,
    }


class NetworkSettingsView(NetworkScopedAPIView):
    """Read (staff) and change (owners and admins) the network's settings."""

    allowed_actor_kinds = frozenset({STAFF})

    @extend_schema(responses=serializers.NetworkSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(network_settings_data(self.network))

    @extend_schema(request=serializers.NetworkSettingsSerializer, responses=serializers.NetworkSettingsSerializer)
    def patch(self, request: Request) -> Response:
        self.require_network_manager()
        incoming = serializers.NetworkSettingsSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        currency = data.get("default_currency", self.network.default_currency)
        changes: dict[str, Any] = {}
        for name in ("name", "default_currency", "time_zone", "payout_schedule", "payout_day", "payout_net_days",
                     "require_payout_maker_checker", "require_staff_2fa", "brand_name", "brand_colour"):
            if name in data:
                changes[name] = data[name]
        try:
            if "default_currency" in data:
                money.validate_currency(currency)
            if "payout_minimum" in data:
                changes["payout_minimum_minor"] = money.to_minor(data["payout_minimum"], currency)
            if "fee" in data:
                changes["fee_type"] = data["fee"]["type"]
                if data["fee"]["type"] == Network.FeeType.FLAT:
                    changes["fee_flat_minor"] = money.to_minor(data["fee"]["value"], currency)
                else:
                    changes["fee_rate"] = data["fee"]["value"]
        except ValidationError as error:
            field = "fee" if "fee" in data and "payout_minimum" not in data else (
                "default_currency" if "default_currency" in data else "payout_minimum")
            raise exceptions.ValidationError({field: error.messages}) from None
        network = services.update_network_settings(network=self.network, actor=request.user, **changes)
        return Response(network_settings_data(network))


class ApiKeyViewSet(NetworkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """API keys: list and revoke (staff see the network's keys, others their own), create returns the key once."""

    queryset = ApiKey.objects.order_by("-created_at")
    required_scope = "api_keys"
    serializer_class = serializers.ApiKeySerializer

    # A merchant's or affiliate's members see the keys of their organisation; staff see every key.
    merchant_field = "actor_id"
    affiliate_field = "actor_id"

    def scoped_queryset(self, queryset: Any) -> Any:
        return queryset if self.actor.is_staff else queryset.filter(actor_kind=self.actor.kind)

    @extend_schema(request=serializers.ApiKeyCreateSerializer, responses={201: serializers.ApiKeyCreatedSerializer})
    def create(self, request: Request) -> Response:
        incoming = serializers.ApiKeyCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        target_kind = (actors.MERCHANT if data.get("merchant") else actors.AFFILIATE if data.get("affiliate")
                       else None)
        if target_kind is None:
            user, kind, actor_id = request.user, self.actor.kind, self.actor.actor_id
        elif not self.actor.is_staff:
            raise exceptions.PermissionDenied("Only network staff create keys for a merchant or an affiliate.")
        else:
            actor_id = data.get("merchant") or data.get("affiliate")
            user = actors.principal_user(self.network, target_kind, actor_id)
            if user is None:
                raise exceptions.ValidationError({target_kind: [f"No {target_kind} {actor_id} in this network."]})
            kind = target_kind
        api_key, key = services.create_api_key(network=self.network, user=user, actor_kind=kind,
                                               actor_id=actor_id, name=data["name"], scopes=data["scopes"])
        services.record_audit(network=self.network, actor=request.user, action="api_key.created", obj=api_key,
                              data={"prefix": api_key.prefix, "scopes": api_key.scopes, "for": kind})
        return Response({"id": api_key.pk, "key": key, "prefix": api_key.prefix}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        api_key = services.revoke_api_key(network=self.network, api_key_id=self.get_object().pk, actor=request.user)
        return Response(self.get_serializer(api_key).data)


class StaffViewSet(NetworkScopedViewSet, mixins.ListModelMixin):
    """The network's staff (owners and admins): list members, invite someone by email."""

    queryset = Membership.objects.select_related("user").order_by("user__email", "pk")
    serializer_class = serializers.StaffMemberSerializer
    allowed_actor_kinds = frozenset({STAFF})
    required_scope = "staff"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.require_network_manager()

    @extend_schema(request=serializers.StaffInviteSerializer, responses={201: serializers.StaffInvitationSerializer})
    def create(self, request: Request) -> Response:
        incoming = serializers.StaffInviteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        invitation = services.invite_staff(network=self.network, email=incoming.validated_data["email"],
                                           role=incoming.validated_data["role"], invited_by=request.user,
                                           base_url=request.build_absolute_uri("/"))
        return Response(serializers.StaffInvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)
