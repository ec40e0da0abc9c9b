from django.contrib import admin

from kartra_integrations.admin import ReadOnlyAdmin

from .models import ActivationPolicy, ActivationPolicyChange, ActivationRequest, AuditEntry, SupportNote


class AuditEntryInline(admin.TabularInline):
    model = AuditEntry
    extra = 0
    can_delete = False
    fields = ("created_at", "actor", "action", "from_state", "to_state", "reason", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ActivationRequest)
class ActivationRequestAdmin(admin.ModelAdmin):
    """Read-only: transitions go through the review pages so each one is audited."""

    list_display = (
        "id",
        "kind",
        "account",
        "api_app",
        "state",
        "submitted_at",
        "due_at",
        "review_started_at",
        "assigned_to",
        "decided_at",
    )
    list_filter = ("kind", "state", "decision_reason")
    search_fields = ("account__name", "account__owner__email")
    date_hierarchy = "submitted_at"
    inlines = [AuditEntryInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "account",
        "activation_request",
        "actor",
        "action",
        "from_state",
        "to_state",
        "reason",
    )
    list_filter = ("action", "to_state")
    search_fields = ("account__name", "actor__email", "note")


@admin.register(SupportNote)
class SupportNoteAdmin(admin.ModelAdmin):
    list_display = ("created_at", "activation_request", "author")
    search_fields = ("body", "author__email", "activation_request__account__name")
    raw_id_fields = ("activation_request", "author")


@admin.register(ActivationPolicy)
class ActivationPolicyAdmin(ReadOnlyAdmin):
    """Read-only: moderators change the policy on its page, where each change is recorded."""

    list_display = ("enabled", "min_account_age_days", "require_clean_history", "updated_at", "updated_by")


@admin.register(ActivationPolicyChange)
class ActivationPolicyChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "actor", "from_values", "to_values")
