"""Django admin for superusers: read-mostly views of the merchants app's rows."""

from django.contrib import admin

from merchants.models import (
    CommissionRule,
    Creative,
    Merchant,
    MerchantMembership,
    Program,
    ProgramAffiliateRate,
    ProgramEvent,
    ProgramTerms,
)


class MembershipInline(admin.TabularInline):
    model = MerchantMembership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "network", "status", "created_at"]
    list_filter = ["status", "network"]
    search_fields = ["name"]
    inlines = [MembershipInline]


class RuleInline(admin.TabularInline):
    model = CommissionRule
    extra = 0


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "network", "status", "currency", "cookie_window_days", "terms_version"]
    list_filter = ["status", "visibility", "network"]
    search_fields = ["name"]
    readonly_fields = ["postback_token", "cache_version", "terms_version"]
    inlines = [RuleInline]


@admin.register(ProgramEvent)
class ProgramEventAdmin(admin.ModelAdmin):
    list_display = ["program", "from_status", "to_status", "actor", "created_at"]
    readonly_fields = [field.name for field in ProgramEvent._meta.fields]


admin.site.register(ProgramTerms)
admin.site.register(ProgramAffiliateRate)
admin.site.register(Creative)
