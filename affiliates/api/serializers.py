"""Serializers for the affiliates API: plain shapes, no logic."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from affiliates import selectors
from affiliates.models import Affiliate, Coupon, Enrollment, EnrollmentEvent, ProgramInvitation, TrackingLink
from merchants.models import CommissionRule
from network import money


class AffiliateSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)
    website = serializers.CharField(read_only=True)  # may be blank, so not a "uri"

    class Meta:
        model = Affiliate
        fields = ["id", "name", "kind", "country", "website", "channels", "status", "created_at"]
        read_only_fields = fields


class AffiliateCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    owner_email = serializers.EmailField()
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=Affiliate.Kind.choices, required=False, default=Affiliate.Kind.INDIVIDUAL)
    website = serializers.URLField(required=False, allow_blank=True, default="")
    channels = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class RuleSerializer(serializers.ModelSerializer):
    rate = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField()

    class Meta:
        model = CommissionRule
        fields = ["action", "type", "rate", "amount", "recurring", "recurring_months", "tiers"]
        read_only_fields = fields

    def get_rate(self, rule: CommissionRule) -> str | None:
        return f"{rule.rate.normalize():f}" if rule.rate is not None else None

    def get_amount(self, rule: CommissionRule) -> str | None:
        return money.to_major(rule.amount_minor, rule.program.currency) if rule.amount_minor is not None else None


class MarketplaceProgramSerializer(serializers.Serializer):
    """A program as the marketplace shows it; figures come from ProgramMetrics (zero until measured)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    merchant = serializers.CharField(source="merchant.name")
    description = serializers.CharField()
    category = serializers.CharField()
    landing_url = serializers.URLField()
    currency = serializers.CharField()
    cookie_window_days = serializers.IntegerField()
    approval = serializers.CharField()
    visibility = serializers.CharField()
    terms_version = serializers.IntegerField()
    rules = serializers.SerializerMethodField()
    epc = serializers.SerializerMethodField()
    conversion_rate = serializers.SerializerMethodField()
    average_commission = serializers.SerializerMethodField()
    reversal_rate = serializers.SerializerMethodField()
    funding_status = serializers.SerializerMethodField()
    payout_methods = serializers.SerializerMethodField()
    enrollment_status = serializers.SerializerMethodField()
    my_rates = serializers.SerializerMethodField()

    def _figures(self, program: Any) -> selectors.MarketplaceFigures:
        cached = getattr(program, "_figures", None)
        if cached is None:
            cached = program._figures = selectors.program_figures(program)
        return cached

    def get_rules(self, program: Any) -> list[dict[str, Any]]:
        rules = []
        for rule in program.rules.all():
            rule.program = program  # the prefetched rows already belong to it; avoid a query for the currency
            rules.append(RuleSerializer(rule).data)
        return rules

    def get_epc(self, program: Any) -> str:
        return self._figures(program).epc

    def get_conversion_rate(self, program: Any) -> str:
        return self._figures(program).conversion_rate

    def get_average_commission(self, program: Any) -> str:
        return self._figures(program).average_commission

    def get_reversal_rate(self, program: Any) -> str:
        return self._figures(program).reversal_rate

    def get_funding_status(self, program: Any) -> str:
        return self._figures(program).funding_status

    def get_payout_methods(self, program: Any) -> list[str]:
        return self.context.get("payout_methods", [])

    def get_enrollment_status(self, program: Any) -> str | None:
        return getattr(program, "my_enrollment_status", None)

    def get_my_rates(self, program: Any) -> list[dict[str, Any]]:
        """Private rates for the calling affiliate; they beat the program's rules for that action."""
        return [{"action": rate.action, "type": rate.type,
                 "rate": f"{rate.rate.normalize():f}" if rate.rate is not None else None,
                 "amount": money.to_major(rate.amount_minor, program.currency)
                 if rate.amount_minor is not None else None}
                for rate in getattr(program, "my_rates", [])]


class MarketplacePageSerializer(serializers.Serializer):
    """The paginated marketplace list (for the schema)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MarketplaceProgramSerializer(many=True)


class ApplySerializer(serializers.Serializer):
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    website = serializers.URLField(required=False, allow_blank=True, default="")
    promotion_methods = serializers.ListField(child=serializers.CharField(max_length=32), required=False,
                                              default=list)


class EnrollmentSerializer(serializers.ModelSerializer):
    program_name = serializers.CharField(source="program.name", read_only=True)
    merchant = serializers.IntegerField(source="program.merchant_id", read_only=True)
    affiliate_name = serializers.CharField(source="affiliate.name", read_only=True)
    current_terms_version = serializers.IntegerField(source="program.terms_version", read_only=True)
    needs_terms_acceptance = serializers.BooleanField(read_only=True)
    website = serializers.CharField(read_only=True)

    class Meta:
        model = Enrollment
        fields = ["id", "program", "program_name", "merchant", "affiliate", "affiliate_name", "status",
                  "accepted_terms_version", "current_terms_version", "needs_terms_acceptance", "message",
                  "website", "promotion_methods", "decision_reason", "applied_at", "decided_at"]
        read_only_fields = fields


class EnrollmentEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = EnrollmentEvent
        fields = ["action", "from_status", "to_status", "terms_version", "reason", "created_at"]
        read_only_fields = fields


class LinkCreateSerializer(serializers.Serializer):
    program = serializers.IntegerField(min_value=1)
    destination_url = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    sub1 = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    sub2 = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    sub3 = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    sub4 = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    sub5 = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TrackingLinkSerializer(serializers.ModelSerializer):
    program_name = serializers.CharField(source="program.name", read_only=True)
    tracking_url = serializers.SerializerMethodField()
    is_usable = serializers.SerializerMethodField()
    destination_url = serializers.CharField(read_only=True)  # blank means the program's landing URL

    class Meta:
        model = TrackingLink
        fields = ["id", "code", "tracking_url", "program", "program_name", "destination_url", "label",
                  "sub1", "sub2", "sub3", "sub4", "sub5", "is_active", "is_usable", "created_at"]
        read_only_fields = fields

    def get_tracking_url(self, link: TrackingLink) -> str:
        request = self.context["request"]
        return selectors.link_tracking_url(link, host=request.get_host(), secure=request.is_secure())

    def get_is_usable(self, link: TrackingLink) -> bool:
        return selectors.link_is_usable(link)


class CouponCreateSerializer(serializers.Serializer):
    program = serializers.IntegerField(min_value=1)
    affiliate = serializers.IntegerField(min_value=1)
    code = serializers.CharField(max_length=64)


class CouponSerializer(serializers.ModelSerializer):
    program_name = serializers.CharField(source="program.name", read_only=True)
    affiliate_name = serializers.CharField(source="affiliate.name", read_only=True)

    class Meta:
        model = Coupon
        fields = ["id", "code", "program", "program_name", "affiliate", "affiliate_name", "is_active", "created_at"]
        read_only_fields = fields


class ProgramInvitationCreateSerializer(serializers.Serializer):
    program = serializers.IntegerField(min_value=1)
    affiliate = serializers.IntegerField(min_value=1)


class ProgramInvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProgramInvitation
        fields = ["id", "program", "affiliate", "created_at"]
        read_only_fields = fields
