"""Django admin for superusers: networks and their tenancy rows (API-key secrets are never shown)."""

from django.contrib import admin

from network.models import ApiKey, AuditEvent, Domain, Invitation, Membership, Network


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "default_currency", "payout_schedule", "require_staff_2fa", "created_at"]
    search_fields = ["slug", "name", "brand_name"]
    inlines = [DomainInline, MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "network", "role", "created_at"]
    list_filter = ["role", "network"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "network", "user", "actor_kind", "actor_id", "created_at", "last_used_at",
                    "revoked_at"]
    list_filter = ["actor_kind", "network"]
    search_fields = ["prefix", "name", "user__email"]
    # The hash is useless to a reader and the secret is never stored; keys are made through the API or /keys/.
    exclude = ["secret_hash"]
    readonly_fields = ["prefix", "network", "user", "actor_kind", "actor_id", "created_at", "last_used_at"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "network", "actor", "action", "object_type", "object_id"]
    list_filter = ["network", "action"]
    search_fields = ["action", "object_id", "actor__email"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False  # the audit log is append-only

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "network", "kind", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["kind", "network"]
    search_fields = ["email"]
    exclude = ["token_hash"]
    readonly_fields = ["accepted_at", "accepted_by", "invited_by"]
