"""Serializers of the payouts API: plain shapes; amounts are decimal strings in major units."""

from typing import Any

from rest_framework import serializers

from network import money
from payouts.models import Invoice, InvoiceLine, MerchantFunding, Payout, PayoutBatch, PayoutProfile
from payouts.selectors import AffiliateBalance


def affiliate_balance_to_api(balance: AffiliateBalance) -> dict[str, Any]:
    """One affiliate's balance in one currency."""
    major = lambda value: money.to_major(value, balance.currency)  # noqa: E731
    return {"affiliate": balance.affiliate_id, "currency": balance.currency,
            "pending": major(balance.pending_minor), "approved": major(balance.approved_minor),
            "paid": major(balance.paid_minor), "available": major(balance.available_minor),
            "reserved": major(balance.reserved_minor)}


def merchant_balance_to_api(merchant_id: int, currency: str, balance_minor: int) -> dict[str, Any]:
    """One merchant's prepaid balance in one currency (negative: the merchant owes)."""
    return {"merchant": merchant_id, "currency": currency, "balance": money.to_major(balance_minor, currency)}


class BalanceRowSerializer(serializers.Serializer):
    """An affiliate row (affiliate, pending, approved, paid, available, reserved) or a merchant row (merchant, balance)."""

    affiliate = serializers.IntegerField(required=False)
    merchant = serializers.IntegerField(required=False)
    currency = serializers.CharField()
    pending = serializers.CharField(required=False)
    approved = serializers.CharField(required=False)
    paid = serializers.CharField(required=False)
    available = serializers.CharField(required=False)
    reserved = serializers.CharField(required=False)
    balance = serializers.CharField(required=False)


class BalancePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = BalanceRowSerializer(many=True)


class MerchantFundingSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField()

    class Meta:
        model = MerchantFunding
        fields = ["id", "merchant", "method", "reference", "amount", "currency", "note", "received_at",
                  "created_at"]

    def get_amount(self, obj: MerchantFunding) -> str:
        return money.to_major(obj.amount_minor, obj.currency)


class MerchantFundingInputSerializer(serializers.Serializer):
    merchant = serializers.IntegerField()
    amount = serializers.CharField()
    currency = serializers.CharField(max_length=3)
    reference = serializers.CharField(max_length=120)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    received_at = serializers.DateTimeField(required=False)


class InvoiceLineSerializer(serializers.ModelSerializer):
    commission = serializers.SerializerMethodField()
    fee = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()

    class Meta:
        model = InvoiceLine
        fields = ["program", "kind", "description", "transactions", "commission", "fee", "total"]

    def get_commission(self, obj: InvoiceLine) -> str:
        return money.to_major(obj.commission_minor, obj.invoice.currency)

    def get_fee(self, obj: InvoiceLine) -> str:
        return money.to_major(obj.fee_minor, obj.invoice.currency)

    def get_total(self, obj: InvoiceLine) -> str:
        return money.to_major(obj.total_minor, obj.invoice.currency)


class InvoiceSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="display_number")
    commission = serializers.SerializerMethodField()
    fee = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = ["id", "number", "merchant", "period_start", "period_end", "currency", "commission", "fee",
                  "total", "issued_at", "lines"]

    def get_commission(self, obj: Invoice) -> str:
        return money.to_major(obj.commission_minor, obj.currency)

    def get_fee(self, obj: Invoice) -> str:
        return money.to_major(obj.fee_minor, obj.currency)

    def get_total(self, obj: Invoice) -> str:
        return money.to_major(obj.total_minor, obj.currency)


# --- Payouts ---

class TaxSerializer(serializers.Serializer):
    """A W-9 / W-8BEN-style declaration."""

    form = serializers.CharField()
    legal_name = serializers.CharField()
    country = serializers.CharField()
    tax_id = serializers.CharField()
    signed_on = serializers.CharField()


class PayoutProfileSerializer(serializers.Serializer):
    """`GET /payout-profile/`: method, details, currency, threshold (decimal string), tax, verification, hold."""

    method = serializers.CharField(allow_null=True)
    details = serializers.DictField()
    currency = serializers.CharField(allow_null=True)
    threshold = serializers.CharField(allow_null=True)
    network_minimum = serializers.CharField()
    tax = serializers.DictField()
    verification = serializers.CharField()
    verification_note = serializers.CharField()
    on_hold = serializers.BooleanField()
    hold_reasons = serializers.ListField(child=serializers.CharField())


class PayoutProfileInputSerializer(serializers.Serializer):
    """`PUT /payout-profile/`; details and tax are validated by the services (errors name `details.<field>`)."""

    method = serializers.ChoiceField(choices=["paypal", "payoneer", "stripe", "bank", "sandbox"])
    details = serializers.DictField(required=False, default=dict)
    currency = serializers.CharField(max_length=3)
    threshold = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
    tax = serializers.DictField(required=False, default=dict)


def profile_to_api(*, network: Any, profile: PayoutProfile | None, reasons: list[str]) -> dict[str, Any]:
    """The profile (or an empty one) as the API shows it."""
    currency = profile.currency if profile else network.default_currency
    threshold = (money.to_major(profile.threshold_minor, currency)
                 if profile is not None and profile.threshold_minor is not None else None)
    return {"method": profile.method if profile else None, "details": profile.details if profile else {},
            "currency": profile.currency if profile else None, "threshold": threshold,
            "network_minimum": money.to_major(network.payout_minimum_minor, currency),
            "tax": profile.tax if profile else {},
            "verification": profile.verification if profile else PayoutProfile.Verification.UNVERIFIED,
            "verification_note": profile.verification_note if profile else "",
            "on_hold": bool(reasons), "hold_reasons": reasons}


class PayoutSerializer(serializers.ModelSerializer):
    """A payout: id, affiliate, batch, amount (decimal string), currency, method, status and why."""

    amount = serializers.SerializerMethodField()

    class Meta:
        model = Payout
        fields = ["id", "affiliate", "batch", "amount", "currency", "method", "status", "reference",
                  "failure_reason", "provider_status", "created_at", "paid_at"]

    def get_amount(self, obj: Payout) -> str:
        return money.to_major(obj.amount_minor, obj.currency)


class PayoutBatchSerializer(serializers.ModelSerializer):
    """A batch with its totals per method and currency and its exceptions (on hold, failed before)."""

    totals = serializers.SerializerMethodField()
    exceptions = serializers.SerializerMethodField()

    class Meta:
        model = PayoutBatch
        fields = ["id", "period_key", "status", "built_at", "built_by", "approved_at", "approved_by",
                  "completed_at", "totals", "exceptions"]

    def get_totals(self, obj: PayoutBatch) -> list[dict[str, Any]]:
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for payout in obj.payouts.all():  # prefetched: no query per batch
            if payout.status == Payout.Status.REMOVED:
                continue
            row = rows.setdefault((payout.method, payout.currency), {"method": payout.method,
                                                                     "currency": payout.currency, "count": 0,
                                                                     "total_minor": 0})
            row["count"] += 1
            row["total_minor"] += payout.amount_minor
        return [{"method": r["method"], "currency": r["currency"], "count": r["count"],
                 "total": money.to_major(r["total_minor"], r["currency"])} for _, r in sorted(rows.items())]

    def get_exceptions(self, obj: PayoutBatch) -> list[dict[str, Any]]:
        return [{"affiliate": e["affiliate"], "currency": e["currency"],
                 "amount": money.to_major(e["amount_minor"], e["currency"]), "reasons": e["reasons"]}
                for e in obj.exceptions]
