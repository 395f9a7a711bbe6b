"""Shapes of the reports API: one performance row, amounts as decimal strings with their currency."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from network import money
from reports.selectors import Figures


class PerformanceRowSerializer(serializers.Serializer):
    """One row of GET /api/v1/reports/performance/ (read-only; built from selectors.Figures)."""

    key = serializers.SerializerMethodField()
    label = serializers.CharField()
    currency = serializers.CharField()
    clicks = serializers.IntegerField()
    unique_clicks = serializers.IntegerField()
    conversions = serializers.IntegerField()
    approved_conversions = serializers.IntegerField()
    reversed_conversions = serializers.IntegerField()
    conversion_rate = serializers.SerializerMethodField()
    epc = serializers.SerializerMethodField()
    commission = serializers.SerializerMethodField()
    approved_commission = serializers.SerializerMethodField()
    sale_amount = serializers.SerializerMethodField()

    def get_key(self, row: Figures) -> Any:
        return row.key.isoformat() if hasattr(row.key, "isoformat") else row.key

    def get_conversion_rate(self, row: Figures) -> str:
        return f"{row.conversion_rate}"

    def get_epc(self, row: Figures) -> str:
        return money.to_major(row.epc_minor, row.currency)

    def get_commission(self, row: Figures) -> str:
        return money.to_major(row.commission_minor, row.currency)

    def get_approved_commission(self, row: Figures) -> str:
        return money.to_major(row.approved_commission_minor, row.currency)

    def get_sale_amount(self, row: Figures) -> str:
        return money.to_major(row.sale_amount_minor, row.currency)
