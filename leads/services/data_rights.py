"""Data rights: a lead's data exported as one JSON document, and erasure.

Erasure keeps the lead row as an anonymous tombstone (its events, transactions and points stay
for the account's reports and for hook history) but removes every personal value irreversibly,
wherever it was copied, in one transaction (lead_erase):

- the lead: profile, email (erased-<id>@erased.invalid), IPs; custom field values deleted; blacklisted;
- consent records: IP, country and user agent blanked; the record keeps only a keyed hash of the
  address (consent_email_digest), so a later proof request is matched by consent_evidence_for_email;
- sequence step deliveries: the address blanked, the steps still queued deleted (never sent);
- activity URLs; the personal fields and any string holding the address, IP, phone or street address
  inside its events' details, in one UPDATE (leads_jsonb_scrub); events not relayed yet are marked
  relayed, so they never reach a hook;
- every copy its events' consumers keep (leads.outbox.events_erased; hook delivery registers one): the
  hooks' stored payloads emptied and marked erased, the deliveries still waiting or in flight stopped,
  what targets answered blanked; a replay sends nothing;
- idempotent responses holding its document: the erased marker (a repeat answers 410 lead_erased);
- admin log entries about the lead: their text names only the erased lead's id.

Every step is a set-based statement whatever the lead's history; nothing of it is cached (the cache
holds only the API throttle counters). A LeadErasure row records who erased it and when.
"""

import json
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from accounts.models import Account, User
from kartra_integrations.errors import ApplicationError
from kartra_integrations.idempotency import idempotency_keys_erase
from leads.models import (
    LEAD_PROFILE_FIELDS,
    CalendarBooking,
    ConsentRecord,
    Lead,
    LeadActivity,
    LeadCustomFieldValue,
    LeadErasure,
    LeadEvent,
    PartnerSignup,
    PointsChange,
    RecurringSubscription,
    StepDelivery,
    Transaction,
    iso_utc,
)
from leads.outbox import events_erased
from leads.selectors import lead_details
from leads.services.consent import consent_email_digest
from leads.services.transactions import lead_transaction

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
# Free-text values shorter than this are not searched for inside other strings (a two-letter city
# or state would blank unrelated text); their own fields are blanked all the same.
MIN_NEEDLE_LENGTH = 5
# Profile fields whose value is searched for inside the strings of event details.
NEEDLE_FIELDS = ("first_name", "middle_name", "last_name", "last_name2", "phone", "address")
SCRUB_FUNCTION = "leads_jsonb_scrub"  # created on PostgreSQL by migration 0007


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


def _scrub(value: Any, personal_strings: set[str], keys: frozenset[str] = PERSONAL_DETAIL_KEYS) -> Any:
    """Python twin of the SQL function leads_jsonb_scrub (registered on SQLite connections)."""
    if isinstance(value, dict):
        return {
            key: ERASED if key in keys and item is not None else _scrub(item, personal_strings, keys)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item, personal_strings, keys) for item in value]
    if isinstance(value, str) and any(text in value.lower() for text in personal_strings):
        return ERASED
    return value


def _scrub_json_text(document: str | None, keys: str, needles: str) -> str | None:
    if document is None:
        return None
    return json.dumps(_scrub(json.loads(document), set(json.loads(needles)), frozenset(json.loads(keys))))


def _personal_needles(lead: Lead) -> list[str]:
    """Lower-cased values of the lead that may have been copied into free text: the address, every IP
    it was seen with (lead, GDPR status, consent records), names, phone and street address. A string
    of the erased lead's events that holds one is blanked whole: an asset name that happens to hold
    a surname goes too, in this lead's history only."""
    needles = {lead.email.strip().lower()}
    ips = {lead.ip, lead.gdpr_status_ip}
    ips.update(ConsentRecord.objects.filter(lead=lead, ip__isnull=False).values_list("ip", flat=True).distinct())
    needles.update(str(ip).lower() for ip in ips if ip)
    for name in NEEDLE_FIELDS:
        value = (getattr(lead, name) or "").strip().lower()
        if len(value) >= MIN_NEEDLE_LENGTH:
            needles.add(value)
    return sorted(needles)


def _events_scrub(*, lead: Lead, needles: list[str], now) -> None:
    """One UPDATE over the lead's events: details scrubbed, and those not relayed yet marked relayed so
    the relay never builds a payload from them. The UPDATE waits for a relay that holds some of them
    (FOR UPDATE) to commit; the HookEvents that relay wrote are then seen by events_erased."""
    table = connection.ops.quote_name(LeadEvent._meta.db_table)
    keys = sorted(PERSONAL_DETAIL_KEYS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET details = {SCRUB_FUNCTION}(details, %s::text[], %s::text[]), "  # noqa: S608
                "relayed_at = COALESCE(relayed_at, %s) WHERE lead_id = %s",
                [keys, needles, now, lead.pk],
            )
        else:
            connection.connection.create_function(SCRUB_FUNCTION, 3, _scrub_json_text, deterministic=True)
            cursor.execute(
                f"UPDATE {table} SET details = {SCRUB_FUNCTION}(details, %s, %s), "  # noqa: S608
                "relayed_at = COALESCE(relayed_at, %s) WHERE lead_id = %s",
                [json.dumps(keys), json.dumps(needles), now, lead.pk],
            )


def _admin_log_erase(lead: Lead) -> None:
    """Admin history names an object by its str(), a lead's being its email."""
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Lead), object_id=str(lead.pk)).update(
        object_repr=f"erased lead {lead.pk}", change_message=""
    )


def erased_email(lead_id: int) -> str:
    return f"erased-{lead_id}@{ERASED_EMAIL_DOMAIN}"


@lead_transaction(durable=True)
def lead_erase(*, lead: Lead, actor: User) -> LeadErasure:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if LeadErasure.objects.filter(lead=lead).exists():
        raise ApplicationError("This lead has already been erased.", code="lead_already_erased")
    now = timezone.now()
    needles = _personal_needles(lead)
    digest = consent_email_digest(account_id=lead.account_id, email=lead.email)

    for name in LEAD_PROFILE_FIELDS:
        setattr(lead, name, None if name == "ip" else "")
    lead.email = erased_email(lead.pk)
    lead.gdpr_status_ip = None
    lead.blacklisted = True
    lead.save(update_fields=[*LEAD_PROFILE_FIELDS, "email", "gdpr_status_ip", "blacklisted"])

    LeadCustomFieldValue.objects.filter(lead=lead).delete()
    ConsentRecord.objects.filter(lead=lead, email_digest="").update(email_digest=digest)
    ConsentRecord.objects.filter(lead=lead).update(ip=None, ip_country="", user_agent="")
    StepDelivery.objects.filter(subscription__lead=lead, status=StepDelivery.Status.QUEUED).delete()
    StepDelivery.objects.filter(subscription__lead=lead).exclude(to_email="").update(to_email="")
    LeadActivity.objects.filter(lead=lead).exclude(url="").update(url="")
    # Events first: this waits for a relay holding some of them, whose HookEvents the next step sees.
    _events_scrub(lead=lead, needles=needles, now=now)
    events_erased(event_ids=LeadEvent.objects.filter(lead=lead).values("pk"), now=now)
    idempotency_keys_erase(account_id=lead.account_id, lead_id=lead.pk)
    _admin_log_erase(lead)
    return LeadErasure.objects.create(account_id=lead.account_id, lead=lead, actor=actor, erased_at=now)


def lead_erased_locked(*, lead_id: int) -> bool:
    """Whether the lead is erased, read under a row lock (call in a transaction): an erasure under way
    is waited for. The tombstone address is written in the erasure's own transaction."""
    email = Lead.objects.select_for_update(no_key=True).filter(pk=lead_id).values_list("email", flat=True).first()
    return email is None or email == erased_email(lead_id)


def consent_evidence_for_email(*, account: Account, email: str) -> list[ConsentRecord]:
    """A proof request for an address: its consent records, the erased leads' included (matched by the
    keyed hash, the address itself being gone), newest first."""
    digest = consent_email_digest(account_id=account.pk, email=email)
    return list(ConsentRecord.objects.filter(account=account, email_digest=digest).order_by("-created_at", "-id"))
