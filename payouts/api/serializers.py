"""Serializers of the payouts API: plain shapes; amounts are decimal strings in major units."""

from typing import Any

from rest_framework import serializers

from network import money
from payouts.models import Invoice, InvoiceLine, MerchantFunding
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
