"""Admin registrations for the lead database. Events, the points log, consent records, step deliveries
and erasures are read-only audit rows (consent is append-only; deliveries and erasures are history),
and so are pending double opt-ins (one changes only through its emailed link)."""

from django.contrib import admin

from kartra_integrations.admin import ReadOnlyAdmin

from . import models


class AssetAdmin(admin.ModelAdmin):
    list_display: tuple[str, ...] = ("name", "account", "created_at")
    list_select_related = ("account",)
    search_fields = ("name", "account__name")
    raw_id_fields = ("account",)


class SequenceStepInline(admin.TabularInline):
    model = models.SequenceStep
    extra = 0


@admin.register(models.Sequence)
class SequenceAdmin(AssetAdmin):
    inlines = [SequenceStepInline]


@admin.register(models.Form)
class FormAdmin(AssetAdmin):
    list_display = ("name", "account", "public_id", "created_at")
    readonly_fields = ("public_id",)
    filter_horizontal = ("lists", "tags")


class CalendarClassInline(admin.TabularInline):
    model = models.CalendarClass
    extra = 0


@admin.register(models.Calendar)
class CalendarAdmin(AssetAdmin):
    inlines = [CalendarClassInline]


class MembershipLevelInline(admin.TabularInline):
    model = models.MembershipLevel
    extra = 0


@admin.register(models.Membership)
class MembershipAdmin(AssetAdmin):
    inlines = [MembershipLevelInline]


class PricePointInline(admin.TabularInline):
    model = models.PricePoint
    extra = 0
    raw_id_fields = ("membership_level",)


@admin.register(models.Product)
class ProductAdmin(AssetAdmin):
    list_display = ("name", "account", "public_id", "created_at")
    readonly_fields = ("public_id",)
    inlines = [PricePointInline]


admin.site.register(models.SequenceStep)
admin.site.register(models.CalendarClass)
admin.site.register(models.MembershipLevel)
admin.site.register(models.PricePoint)


class CustomFieldOptionInline(admin.TabularInline):
    model = models.CustomFieldOption
    extra = 0


@admin.register(models.CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("identifier", "type", "account")
    list_filter = ("type",)
    search_fields = ("identifier", "account__name")
    raw_id_fields = ("account",)
    inlines = [CustomFieldOptionInline]


admin.site.register(models.CustomFieldOption)


@admin.register(models.Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "account", "source", "score", "gdpr_status", "date_joined")
    list_filter = ("source", "gdpr_status", "blacklisted")
    list_select_related = ("account",)
    search_fields = ("email",)
    raw_id_fields = ("account",)
    # GDPR status changes only through consent capture; score only through the points log.
    readonly_fields = ("score", "peak_score", "gdpr_status", "gdpr_status_date", "gdpr_status_ip")
    show_full_result_count = False


class LeadRelationAdmin(admin.ModelAdmin):
    raw_id_fields = ("lead",)
    show_full_result_count = False


for _relation_model in (
    models.LeadCustomFieldValue,
    models.LeadTag,
    models.ListSubscription,
    models.SequenceSubscription,
    models.CalendarBooking,
    models.MembershipAccess,
    models.RecurringSubscription,
    models.PartnerSignup,
    models.LeadActivity,
):
    admin.site.register(_relation_model, LeadRelationAdmin)


@admin.register(models.Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "lead", "product", "amount", "currency", "created_at")
    list_filter = ("kind",)
    show_full_result_count = False


@admin.register(models.PointsChange)
class PointsChangeAdmin(ReadOnlyAdmin):
    list_display = ("lead", "delta", "reason", "created_at", "expires_at", "expired_at")
    show_full_result_count = False


@admin.register(models.LeadEvent)
class LeadEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "action", "account", "lead")
    list_filter = ("action",)
    list_select_related = ("account", "lead")
    show_full_result_count = False


@admin.register(models.GdprSettingChange)
class GdprSettingChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "account", "actor", "from_enabled", "to_enabled")
    list_filter = ("to_enabled",)
    list_select_related = ("account", "actor")
    search_fields = ("account__name", "actor__email")


@admin.register(models.ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ("lead", "purpose", "action", "source", "ip", "ip_country", "notice_version", "actor", "created_at")
    list_filter = ("purpose", "action", "source")
    search_fields = ("lead__email",)
    list_select_related = ("lead", "actor")


@admin.register(models.StepDelivery)
class StepDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("subscription", "step", "status", "reason", "created_at", "sent_at")
    list_filter = ("status", "reason")


@admin.register(models.LeadErasure)
class LeadErasureAdmin(ReadOnlyAdmin):
    list_display = ("lead", "actor", "erased_at")


@admin.register(models.PendingOptIn)
class PendingOptInAdmin(ReadOnlyAdmin):
    list_display = ("email", "form", "account", "created_at", "email_sent_at", "confirmed_at", "lead")
    search_fields = ("email",)
    list_select_related = ("form", "account", "lead")


# Every other kind of leads.models.ASSET_KINDS (tags, lists, pages, videos, links): the plain asset admin.
for _kind in models.ASSET_KINDS:
    if not admin.site.is_registered(_kind.model):
        admin.site.register(_kind.model, AssetAdmin)
