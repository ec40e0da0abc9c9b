from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from kartra_integrations.admin import ReadOnlyAdmin

from .models import Account, ApiApp, ApiAppChange, ApiCredential, User


@admin.register(User)
class EmailUserAdmin(UserAdmin):
    list_display = ("email", "role", "is_staff", "date_joined")
    list_filter = ("role", "is_staff", "is_superuser")
    search_fields = ("email",)
    ordering = ("email",)
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Role", {"fields": ("role",)}))


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "zapier_activated", "gdpr_enabled", "created_at")
    list_filter = ("zapier_activated", "gdpr_enabled")
    search_fields = ("name", "owner__email")
    readonly_fields = ("zapier_activated",)  # changed only through the approvals review


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin):
    list_display = ("api_key", "kind", "account", "created_at", "last_used_at")
    list_filter = ("kind",)
    readonly_fields = ("api_key", "kind", "password_hash", "created_at", "last_used_at")
    search_fields = ("api_key", "account__name")


@admin.register(ApiApp)
class ApiAppAdmin(ReadOnlyAdmin):
    """Apps change through their services (owner's pages, the review queue, create_api_app), each
    change recorded in ApiAppChange: read-only here."""

    list_display = ("name", "app_id", "account", "mode", "created_at", "went_live_at", "revoked_at")
    list_filter = ("mode",)
    search_fields = ("name", "app_id", "account__name")


@admin.register(ApiAppChange)
class ApiAppChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "api_app", "actor", "action")
    list_filter = ("action",)
