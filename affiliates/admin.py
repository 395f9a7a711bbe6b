"""Admin registrations for the affiliates app (superusers only)."""

from django.contrib import admin

from affiliates.models import (
    Affiliate,
    AffiliateMembership,
    Coupon,
    Enrollment,
    EnrollmentEvent,
    ProgramInvitation,
    ProgramMetrics,
    TrackingLink,
)


@admin.register(Affiliate)
class AffiliateAdmin(admin.ModelAdmin):
    list_display = ["name", "network", "kind", "country", "status", "created_at"]
    list_filter = ["network", "status", "kind"]
    search_fields = ["name", "website"]


@admin.register(AffiliateMembership)
class AffiliateMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "affiliate", "role", "network"]
    raw_id_fields = ["user", "affiliate"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["affiliate", "program", "status", "accepted_terms_version", "applied_at", "decided_at"]
    list_filter = ["network", "status"]
    raw_id_fields = ["affiliate", "program"]


@admin.register(EnrollmentEvent)
class EnrollmentEventAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "action", "from_status", "to_status", "actor", "created_at"]
    raw_id_fields = ["enrollment", "actor"]


@admin.register(TrackingLink)
class TrackingLinkAdmin(admin.ModelAdmin):
    list_display = ["code", "affiliate", "program", "label", "is_active", "created_at"]
    search_fields = ["code", "label"]
    raw_id_fields = ["enrollment", "program", "affiliate"]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ["code", "program", "affiliate", "is_active"]
    search_fields = ["code"]
    raw_id_fields = ["program", "affiliate"]


admin.site.register(ProgramInvitation)
admin.site.register(ProgramMetrics)
