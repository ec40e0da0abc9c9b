"""Admin for issue 7's audit rows and issue 12's pending double opt-ins: read-only (consent is append-only;
deliveries and erasures are history; a pending opt-in changes only through its emailed link)."""

from django.contrib import admin

from .admin import ReadOnlyAdmin
from .models_consent import ConsentRecord, LeadErasure, PendingOptIn, StepDelivery


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


@admin.register(PendingOptIn)
class PendingOptInAdmin(ReadOnlyAdmin):
    list_display = ("email", "form", "account", "created_at", "email_sent_at", "confirmed_at", "lead")
    search_fields = ("email",)
    list_select_related = ("form", "account", "lead")
