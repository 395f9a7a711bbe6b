"""Serializers for the tenancy API: plain shapes, no logic."""

from rest_framework import serializers

from network.models import ApiKey, Invitation, Membership, Network


class MeSerializer(serializers.Serializer):
    network = serializers.CharField()
    network_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ApiKey.ActorKind.choices)
    role = serializers.CharField()
    email = serializers.EmailField()
    merchant = serializers.IntegerField(allow_null=True)
    affiliate = serializers.IntegerField(allow_null=True)


class FeeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=Network.FeeType.choices)
    # A percentage for the percent types, a decimal amount in the default currency for flat.
    value = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0)


class NetworkSettingsSerializer(serializers.Serializer):
    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(max_length=120, required=False)
    default_currency = serializers.CharField(max_length=3, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    payout_minimum = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0, required=False,
                                              coerce_to_string=True)
    payout_schedule = serializers.ChoiceField(choices=Network.PayoutSchedule.choices, required=False)
    payout_day = serializers.IntegerField(min_value=1, max_value=28, required=False)
    payout_net_days = serializers.IntegerField(min_value=0, max_value=120, required=False)
    require_payout_maker_checker = serializers.BooleanField(required=False)
    fee = FeeSerializer(required=False)
    require_staff_2fa = serializers.BooleanField(required=False)
    brand_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    brand_colour = serializers.CharField(max_length=7, required=False)


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    merchant = serializers.IntegerField(required=False, min_value=1)
    affiliate = serializers.IntegerField(required=False, min_value=1)
    scopes = serializers.ListField(child=serializers.RegexField(r"^[a-z_]+(:(read|write))?$|^\*$"),
                                   required=False, default=list)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("merchant") and attrs.get("affiliate"):
            raise serializers.ValidationError({"affiliate": ["Give either merchant or affiliate, not both."]})
        return attrs


class ApiKeyCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    prefix = serializers.CharField()


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "actor_kind", "actor_id", "scopes", "created_at", "last_used_at",
                  "revoked_at"]
        read_only_fields = fields


class StaffMemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "role", "created_at"]
        read_only_fields = fields


class StaffInviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class StaffInvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "created_at", "expires_at"]
        read_only_fields = fields
