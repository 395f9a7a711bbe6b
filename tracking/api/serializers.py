"""Serializers of the tracking API: plain shapes, no logic (the service validates and names fields)."""

from typing import Any

from rest_framework import serializers

from network import money
from tracking.models import Conversion


class ConversionInputSerializer(serializers.Serializer):
    program = serializers.IntegerField()
    order_id = serializers.CharField(max_length=128)
    amount = serializers.CharField(max_length=32)
    currency = serializers.CharField(max_length=3)
    action = serializers.CharField(max_length=32, required=False, default="sale")
    occurred_at = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    click_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    coupon = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    customer_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    customer_email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")


class ConversionSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField()
    commission = serializers.SerializerMethodField()
    reversed_amount = serializers.SerializerMethodField()
    reversed_commission = serializers.SerializerMethodField()
    click_id = serializers.SerializerMethodField()

    class Meta:
        model = Conversion
        fields = ["id", "program", "affiliate", "status", "status_reason", "reason_code", "order_id", "action",
                  "amount", "currency", "commission", "reversed_amount", "reversed_commission", "explanation",
                  "flags", "attribution", "attribution_note", "source",
                  "click_id", "sub1", "sub2", "sub3", "sub4", "sub5", "occurred_at", "created_at"]
        read_only_fields = fields

    def get_reversed_amount(self, obj: Conversion) -> str:
        return money.to_major(obj.reversed_amount_minor, obj.currency)

    def get_reversed_commission(self, obj: Conversion) -> str:
        return money.to_major(obj.reversed_commission_minor, obj.currency)

    def get_amount(self, obj: Conversion) -> str:
        return money.to_major(obj.amount_minor, obj.currency)

    def get_commission(self, obj: Conversion) -> str:
        return money.to_major(obj.commission_minor, obj.currency)

    def get_click_id(self, obj: Conversion) -> str | None:
        click: Any = obj.click if obj.click_id else None
        return click.click_id if click is not None else None
