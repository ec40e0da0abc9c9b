"""Admin for issue 7's audit rows: read-only (consent is append-only; deliveries and erasures are history)."""

from django.contrib import admin

from .admin import ReadOnlyAdmin
from .models_consent import ConsentRecord, LeadErasure, StepDelivery


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ("lead", "purpose", "action", "source", "ip", "ip_country", "notice_version", "actor", "created_at")
    list_filter = ("purpose", "action", "source")
    search_fields = ("lead__email",)
    list_select_related = ("lead", "actor")


@admin.register(StepDelivery)
class StepDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("subscription", "step", "status", "reason", "created_at", "sent_at")
    list_filter = ("status", "reason")


@admin.register(LeadErasure)
class LeadErasureAdmin(ReadOnlyAdmin):
    list_display = ("lead", "actor", "erased_at")
