"""Data rights (issue 7): a lead's data exported as one JSON document, and erasure.

Erasure keeps the lead row as an anonymous tombstone (its events, transactions and points stay
for the account's reports and for hook history) but removes every personal value irreversibly:
profile, email, IPs, custom field values, visited URLs, consent IPs and user agents, step
delivery addresses, and the personal fields inside its events' details. The lead is
blacklisted so no email can ever be sent to it again; a LeadErasure row records who erased it.
"""

from typing import Any

from django.db import transaction

from accounts.models import User
from kartra_integrations.errors import ApplicationError

from .models import (
    LEAD_PROFILE_FIELDS,
    CalendarBooking,
    Lead,
    LeadActivity,
    LeadCustomFieldValue,
    LeadEvent,
    PartnerSignup,
    PointsChange,
    RecurringSubscription,
    Transaction,
    iso_utc,
)
from .models_consent import ConsentRecord, LeadErasure, StepDelivery
from .selectors import lead_details

ERASED_EMAIL_DOMAIN = "erased.invalid"
ERASED = ""
# Keys inside event details that hold the lead's personal data (reference section 5 shapes).
PERSONAL_DETAIL_KEYS = frozenset(LEAD_PROFILE_FIELDS) | {
    "email",
    "lead_email",
    "lead_username",
    "lead_first_name",
    "lead_middle_name",
    "lead_last_name",
    "lead_phone",
    "lead_ip",
    "url",
    "page_url",
    "referrer",
}


def lead_export(*, lead: Lead) -> dict[str, Any]:
    """Everything the account holds about the lead, as JSON-ready data."""
    transactions = Transaction.objects.filter(lead=lead).select_related("product", "price_point").order_by("id")
    return {
        "profile": lead_details(lead),
        "points_log": [
            {
                "delta": change.delta,
                "reason": change.reason,
                "created_at": iso_utc(change.created_at),
                "expires_at": iso_utc(change.expires_at),
                "expired_at": iso_utc(change.expired_at),
            }
            for change in PointsChange.objects.filter(lead=lead).order_by("created_at", "id")
        ],
        "consent_records": [
            {
                "purpose": record.purpose,
                "action": record.action,
                "source": record.source,
                "ip": record.ip,
                "ip_country": record.ip_country,
                "user_agent": record.user_agent,
                "notice_version": record.notice_version,
                "notice_text": record.notice_text,
                "actor": record.actor.email if record.actor else None,
                "created_at": iso_utc(record.created_at),
            }
            for record in ConsentRecord.objects.filter(lead=lead).select_related("actor").order_by("created_at", "id")
        ],
        "purchases": [
            {
                "transaction_id": txn.pk,
                "type": txn.kind,
                "parent_id": txn.parent_id,
                "product": txn.product.name,
                "price_point": txn.price_point.number,
                "quantity": txn.quantity,
                "amount": str(txn.amount),
                "currency": txn.currency,
                "created_at": iso_utc(txn.created_at),
            }
            for txn in transactions
        ],
        "recurring_subscriptions": [
            {"sale_id": sub.sale_id, "status": sub.status, "cancelled_at": iso_utc(sub.cancelled_at)}
            for sub in RecurringSubscription.objects.filter(lead=lead).order_by("id")
        ],
        "calendar_bookings": [
            {
                "class": booking.calendar_class.name,
                "calendar": booking.calendar_class.calendar.name,
                "starts_at": iso_utc(booking.starts_at),
                "status": booking.status,
            }
            for booking in CalendarBooking.objects.filter(lead=lead).select_related("calendar_class__calendar")
        ],
        "partner_signups": [
            {"product": signup.product.name, "kind": signup.kind, "created_at": iso_utc(signup.created_at)}
            for signup in PartnerSignup.objects.filter(lead=lead).select_related("product")
        ],
        "activity": [
            {"kind": item.kind, "url": item.url, "created_at": iso_utc(item.created_at)}
            for item in LeadActivity.objects.filter(lead=lead).order_by("created_at", "id")
        ],
        "events": [
            {"action": event.action, "occurred_at": iso_utc(event.occurred_at), "details": event.details}
            for event in LeadEvent.objects.filter(lead=lead).order_by("occurred_at")
        ],
    }


def _scrub(value: Any, personal_strings: set[str]) -> Any:
    if isinstance(value, dict):
        return {
            key: ERASED if key in PERSONAL_DETAIL_KEYS and item is not None else _scrub(item, personal_strings)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item, personal_strings) for item in value]
    if isinstance(value, str) and any(text in value.lower() for text in personal_strings):
        return ERASED
    return value


@transaction.atomic(durable=True)
def lead_erase(*, lead: Lead, actor: User) -> LeadErasure:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if LeadErasure.objects.filter(lead=lead).exists():
        raise ApplicationError("This lead has already been erased.", code="lead_already_erased")
    # Values that may have been copied into free text inside event details.
    personal_strings = {lead.email.lower()}
    if lead.ip:
        personal_strings.add(str(lead.ip).lower())

    for name in LEAD_PROFILE_FIELDS:
        setattr(lead, name, None if name == "ip" else "")
    lead.email = f"erased-{lead.pk}@{ERASED_EMAIL_DOMAIN}"
    lead.gdpr_status_ip = None
    lead.blacklisted = True
    lead.save(update_fields=[*LEAD_PROFILE_FIELDS, "email", "gdpr_status_ip", "blacklisted"])

    LeadCustomFieldValue.objects.filter(lead=lead).delete()
    ConsentRecord.objects.filter(lead=lead).update(ip=None, ip_country="", user_agent="")
    StepDelivery.objects.filter(subscription__lead=lead).update(to_email="")
    LeadActivity.objects.filter(lead=lead).update(url="")
    events = list(LeadEvent.objects.filter(lead=lead))
    for event in events:
        event.details = _scrub(event.details, personal_strings)
    LeadEvent.objects.bulk_update(events, ["details"], batch_size=500)
    return LeadErasure.objects.create(account_id=lead.account_id, lead=lead, actor=actor)
