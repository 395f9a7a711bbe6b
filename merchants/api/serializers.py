"""Serializers for the merchants API: plain shapes, no logic (amounts are decimal strings in major units)."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from merchants import services
from merchants.models import CommissionRule, Creative, Merchant, Program
from network import money


def _rate(value: Decimal | None) -> str | None:
    return f"{value.normalize():f}" if value is not None else None


def rule_to_api(rule: CommissionRule, currency: str) -> dict[str, Any]:
    """A commission rule in the API's shape: rates as strings, amounts in major units."""
    tiers = [{"min_approved": tier["min_approved"], "rate": tier["rate"]} if "rate" in tier
             else {"min_approved": tier["min_approved"], "amount": money.to_major(int(tier["amount_minor"]), currency)}
             for tier in rule.tiers or []]
    return {"id": rule.pk, "action": rule.action, "type": rule.type, "rate": _rate(rule.rate),
            "amount": money.to_major(rule.amount_minor, currency) if rule.amount_minor is not None else None,
            "recurring": rule.recurring, "recurring_months": rule.recurring_months, "tiers": tiers,
            "monthly_cap": rule.monthly_cap_per_affiliate}


def rules_from_api(rules: list[dict[str, Any]], currency: str) -> list[dict[str, Any]]:
    """API rules (major units) as the service's rules (minor units); a bad amount names `rules`."""
    converted: list[dict[str, Any]] = []
    try:
        for rule in rules:
            tiers = [{"min_approved": tier["min_approved"], "rate": tier.get("rate"),
                      "amount_minor": money.to_minor(tier["amount"], currency) if tier.get("amount") is not None
                      else None} for tier in rule.get("tiers") or []]
            converted.append({
                "action": rule["action"], "type": rule["type"], "rate": rule.get("rate"),
                "amount_minor": money.to_minor(rule["amount"], currency) if rule.get("amount") is not None else None,
                "recurring": rule.get("recurring"), "recurring_months": rule.get("recurring_months"),
                "tiers": [{k: v for k, v in tier.items() if v is not None} for tier in tiers],
                "monthly_cap_per_affiliate": rule.get("monthly_cap"),
            })
    except ValidationError as error:
        raise ValidationError({"rules": error.messages}) from None
    return converted


class MerchantFeeSerializer(serializers.Serializer):
    type = serializers.CharField(allow_blank=True)
    rate = serializers.CharField(allow_null=True)
    flat = serializers.CharField(allow_null=True)


class MerchantSerializer(serializers.ModelSerializer):
    # A plain string: the website is optional, and "" is not a URI.
    website = serializers.CharField(read_only=True)
    fee = serializers.SerializerMethodField()

    class Meta:
        model = Merchant
        fields = ["id", "name", "status", "website", "country", "fee", "created_at"]
        read_only_fields = fields

    @extend_schema_field(MerchantFeeSerializer)
    def get_fee(self, merchant: Merchant) -> dict:
        flat = (money.to_major(merchant.fee_flat_minor, merchant.network.default_currency)
                if merchant.fee_flat_minor is not None else None)
        rate = f"{merchant.fee_rate.normalize():f}" if merchant.fee_rate is not None else None
        return {"type": merchant.fee_type, "rate": rate, "flat": flat}


class MerchantCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    owner_email = serializers.EmailField()
    website = serializers.URLField(required=False, allow_blank=True, default="")
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, allow_blank=True, default="")


class MerchantStatusSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class TierSerializer(serializers.Serializer):
    min_approved = serializers.IntegerField(min_value=1)
    rate = serializers.DecimalField(max_digits=7, decimal_places=4, min_value=0, max_value=100, required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0, required=False)


class RuleSerializer(serializers.Serializer):
    action = serializers.SlugField(max_length=32)
    type = serializers.ChoiceField(choices=CommissionRule.Type.choices)
    rate = serializers.DecimalField(max_digits=7, decimal_places=4, min_value=0, max_value=100, required=False,
                                    allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0, required=False, allow_null=True)
    recurring = serializers.ChoiceField(choices=CommissionRule.Recurring.choices, required=False,
                                        default=CommissionRule.Recurring.NONE)
    recurring_months = serializers.IntegerField(min_value=1, max_value=120, required=False, allow_null=True)
    tiers = TierSerializer(many=True, required=False, default=list)
    monthly_cap = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class TermsSerializer(serializers.Serializer):
    version = serializers.IntegerField(read_only=True)
    promotion_methods = serializers.ListField(child=serializers.ChoiceField(choices=services.PROMOTION_METHODS),
                                              required=False)
    ppc_brand_bidding = serializers.BooleanField(required=False)
    coupon_sites = serializers.BooleanField(required=False)
    text = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class FraudSerializer(serializers.Serializer):
    min_seconds_to_convert = serializers.IntegerField(min_value=0, max_value=86400 * 30, required=False)
    duplicate_click_window_seconds = serializers.IntegerField(min_value=0, max_value=86400, required=False)


class TierOutSerializer(serializers.Serializer):
    min_approved = serializers.IntegerField()
    rate = serializers.CharField(required=False)
    amount = serializers.CharField(required=False)


class RuleOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    type = serializers.CharField()
    rate = serializers.CharField(allow_null=True)
    amount = serializers.CharField(allow_null=True)
    recurring = serializers.CharField()
    recurring_months = serializers.IntegerField(allow_null=True)
    tiers = TierOutSerializer(many=True)
    monthly_cap = serializers.IntegerField(allow_null=True)


class ProgramWriteSerializer(serializers.Serializer):
    """What a POST or PATCH may carry; the service validates the fields together."""

    merchant = serializers.IntegerField(min_value=1, required=False)
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    category = serializers.CharField(required=False, allow_blank=True, max_length=64)
    landing_url = serializers.CharField(max_length=2000)
    allowed_domains = serializers.ListField(child=serializers.CharField(max_length=260), required=False,
                                            max_length=100)
    cookie_window_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    attribution = serializers.ChoiceField(choices=Program.Attribution.choices, required=False)
    approval = serializers.ChoiceField(choices=Program.Approval.choices, required=False)
    visibility = serializers.ChoiceField(choices=Program.Visibility.choices, required=False)
    currency = serializers.CharField(min_length=3, max_length=3, required=False)
    lock_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    status = serializers.ChoiceField(choices=Program.Status.choices, required=False)
    click_param = serializers.CharField(max_length=32, required=False)
    terms = TermsSerializer(required=False)
    fraud = FraudSerializer(required=False)
    rules = RuleSerializer(many=True, required=False)


class ProgramSerializer(serializers.ModelSerializer):
    """A program as the API shows it (rules and terms prefetched by the view)."""

    terms = serializers.SerializerMethodField()
    fraud = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()

    class Meta:
        model = Program
        fields = ["id", "merchant", "name", "description", "category", "landing_url", "allowed_domains",
                  "cookie_window_days", "attribution", "approval", "visibility", "currency", "lock_days", "status",
                  "click_param", "postback_token", "terms_version", "cache_version", "terms", "fraud", "rules",
                  "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(TermsSerializer(allow_null=True))
    def get_terms(self, program: Program) -> dict | None:
        for terms in program.terms_versions.all():
            if terms.version == program.terms_version:
                return {"version": terms.version, "promotion_methods": terms.promotion_methods,
                        "ppc_brand_bidding": terms.ppc_brand_bidding, "coupon_sites": terms.coupon_sites,
                        "text": terms.text}
        return None

    @extend_schema_field(FraudSerializer)
    def get_fraud(self, program: Program) -> dict:
        return {"min_seconds_to_convert": program.min_seconds_to_convert,
                "duplicate_click_window_seconds": program.duplicate_click_window_seconds}

    @extend_schema_field(RuleOutSerializer(many=True))
    def get_rules(self, program: Program) -> list[dict]:
        return [rule_to_api(rule, program.currency) for rule in sorted(program.rules.all(), key=lambda r: r.action)]


class CreativeSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()

    class Meta:
        model = Creative
        fields = ["id", "program", "kind", "name", "image_url", "width", "height", "text", "alt_text",
                  "destination_url", "is_active", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_image_url(self, creative: Creative) -> str | None:
        if not creative.image:
            return None
        request = self.context.get("request")
        url = creative.image.url
        return request.build_absolute_uri(url) if request is not None else url


class CreativeWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Creative.Kind.choices)
    name = serializers.CharField(max_length=120)
    image = serializers.FileField(required=False, allow_null=True)
    text = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    alt_text = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    destination_url = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    is_active = serializers.BooleanField(required=False, default=True)



class AffiliateRateSerializer(serializers.Serializer):
    """A private rate in the API's shape (read)."""

    id = serializers.IntegerField(read_only=True)
    affiliate = serializers.IntegerField(source="affiliate_id", read_only=True)
    action = serializers.CharField(read_only=True)
    type = serializers.CharField(read_only=True)
    rate = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_rate(self, rate: Any) -> str | None:
        return _rate(rate.rate)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_amount(self, rate: Any) -> str | None:
        return money.to_major(rate.amount_minor, rate.program.currency) if rate.amount_minor is not None else None


class AffiliateRateWriteSerializer(serializers.Serializer):
    affiliate = serializers.IntegerField(min_value=1)
    action = serializers.SlugField(max_length=32, default="sale")
    type = serializers.ChoiceField(choices=CommissionRule.Type.choices)
    rate = serializers.DecimalField(max_digits=7, decimal_places=4, min_value=0, max_value=100, required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0, required=False)


class CreativePageSerializer(serializers.Serializer):
    """A page of creatives (the nested list is paginated like every list)."""

    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CreativeSerializer(many=True)


class AffiliateRatePageSerializer(serializers.Serializer):
    """A page of private rates."""

    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = AffiliateRateSerializer(many=True)
