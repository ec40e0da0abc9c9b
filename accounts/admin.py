from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Account, ApiCredential, User


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
