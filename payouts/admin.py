"""Admin for the payouts app: the ledger is read-only here too (append-only, L2)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from payouts.models import (
    Invoice,
    InvoiceLine,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    MerchantFunding,
    NetworkBillingSettings,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Superusers may look; corrections are reversing transactions posted by the services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ["account", "amount_minor", "currency"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["pk", "network", "kind", "merchant", "affiliate", "currency"]
    list_filter = ["kind", "currency", "network"]


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "network", "kind", "idempotency_key", "source", "occurred_at"]
    list_filter = ["kind", "network"]
    search_fields = ["idempotency_key", "source"]
    inlines = [LedgerEntryInline]


@admin.register(MerchantFunding)
class MerchantFundingAdmin(ReadOnlyAdmin):
    list_display = ["pk", "network", "merchant", "reference", "amount_minor", "currency", "received_at"]
    search_fields = ["reference"]


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ["description", "transactions", "commission_minor", "fee_minor", "total_minor"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "network", "merchant", "period_start", "currency", "total_minor"]
    list_filter = ["network", "currency"]
    inlines = [InvoiceLineInline]


@admin.register(NetworkBillingSettings)
class NetworkBillingSettingsAdmin(admin.ModelAdmin):
    list_display = ["network", "funding_horizon_days", "pause_unfunded_programs"]
