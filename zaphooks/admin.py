from django.contrib import admin

from .models import Delivery, DeliveryAttempt, HookEvent, SigningSecret, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("id", "account", "kind", "events", "masked_target", "state", "created_at", "first_failure_at")
    list_filter = ("kind", "state")
    search_fields = ("account__name", "target_url")
    readonly_fields = ("created_at", "filter_resolved")


@admin.register(SigningSecret)
class SigningSecretAdmin(admin.ModelAdmin):
    list_display = ("account", "created_at", "expires_at")
    exclude = ("secret",)
    readonly_fields = ("account", "created_at", "expires_at")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(HookEvent)
class HookEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "account", "action", "occurred_at", "relayed_at")
    list_filter = ("action",)


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("attempted_at", "status_code", "duration_ms", "response_start", "error", "next_attempt_at")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "subscription", "event_id", "state", "attempts", "next_attempt_at", "last_status_code")
    list_filter = ("state",)
    inlines = [AttemptInline]


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    list_display = ("delivery", "attempted_at", "status_code", "duration_ms", "error")
