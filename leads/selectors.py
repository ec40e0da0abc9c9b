"""Reads of the lead database: lookups scoped to an account, the lead details document, the email
gate, and the event payload used by hook delivery."""

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import models
from django.db.models import CharField, IntegerField, JSONField, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Cast, Lower

from accounts.models import Account
from kartra_integrations.errors import NotFound
from kartra_integrations.limits import ascii_int
from kartra_integrations.prepared import PreparedQuery

from .models import (
    GDPR_STATUS_CODES,
    LEAD_PROFILE_FIELDS,
    OPTION_FIELD_TYPES,
    Asset,
    CalendarBooking,
    CalendarClass,
    CustomField,
    CustomFieldOption,
    GdprSettingChange,
    GdprStatus,
    Lead,
    LeadCustomFieldValue,
    LeadEvent,
    LeadTag,
    ListSubscription,
    Membership,
    MembershipAccess,
    MembershipLevel,
    PartnerSignup,
    PointsChange,
    PricePoint,
    Product,
    RecurringSubscription,
    SequenceSubscription,
    Transaction,
    iso_utc,
)

LEAD_NOT_FOUND = "No lead found"


def _as_id(ref: Any) -> int | None:
    """An id given as a number or ASCII digits, within the bigint range; None otherwise (not found)."""
    return ascii_int(ref)


def lead_get(*, account: Account, id: int | str | None = None, email: str | None = None) -> Lead:
    """The account's lead by id or by email (case-insensitive); NotFound "No lead found" otherwise,
    including for another account's lead. The lead's `.account` is the caller's `account` object
    (already loaded, with its owner when the caller loaded it so), not a second copy joined in."""
    lead_id = _as_id(id) if id is not None else None
    lead = None
    if lead_id is not None:
        lead = _lead_by_id.get(account_id=account.pk, lead_id=lead_id)
    elif id is None and email:
        lead = _lead_by_email.get(account_id=account.pk, email=email.strip().lower())
    if lead is None:
        raise NotFound(LEAD_NOT_FOUND, code="lead_not_found")
    lead.account = account
    return lead


# Nearly every API call looks up a lead: compiled once per process.
_lead_by_id = PreparedQuery(
    lambda account_id, lead_id: Lead.objects.filter(account_id=account_id, pk=lead_id),
    account_id=-424242101,
    lead_id=-424242102,
)
_lead_by_email = PreparedQuery(
    lambda account_id, email: Lead.objects.filter(account_id=account_id).with_email(email),
    account_id=-424242103,
    email="{email}",
)


def asset_resolve(*, account: Account, model: type[Asset], ref: int | str) -> Asset:
    """The account's asset of this kind by id or exact name. A numeric string is tried as an id, then as
    a name. Another account's asset is reported exactly like a missing one."""
    asset = None
    asset_id = _as_id(ref)
    if asset_id is not None:
        asset = _asset_by(model, "pk").get(account_id=account.pk, value=asset_id)
    if asset is None and isinstance(ref, str) and ref.strip():
        asset = _asset_by(model, "name").get(account_id=account.pk, value=ref.strip())
    if asset is None:
        label = model._meta.verbose_name.capitalize()
        raise NotFound(f'{label} "{ref}" does not exist', code=f"{model.kind}_not_found")
    return asset


@cache
def _asset_by(model: type[Asset], field: str) -> PreparedQuery:
    # Actions resolve an asset on nearly every call: one compiled lookup per kind and key (both unique).
    return PreparedQuery(
        lambda account_id, value: model.objects.filter(account_id=account_id, **{field: value}),
        account_id=-424242201,
        value=-424242202 if field == "pk" else "{value}",
    )


def _child_resolve(queryset: models.QuerySet, *, ref: int | str, label: str, code: str, name_field: str = "name"):
    found = None
    child_id = _as_id(ref)
    if child_id is not None:
        found = queryset.filter(pk=child_id).first()
    if found is None and isinstance(ref, str) and ref.strip():
        found = queryset.filter(**{name_field: ref.strip()}).first()
    if found is None:
        raise NotFound(f'{label} "{ref}" does not exist', code=code)
    return found


def calendar_class_resolve(*, calendar, ref: int | str) -> CalendarClass:
    return _child_resolve(
        calendar.classes.select_related("calendar"),
        ref=ref,
        label="Calendar class",
        code="calendar_class_not_found",
    )


def membership_level_resolve(*, membership: Membership, ref: int | str) -> MembershipLevel:
    return _child_resolve(
        membership.levels.select_related("membership"),
        ref=ref,
        label="Membership level",
        code="membership_level_not_found",
    )


def price_point_resolve(*, product: Product, number: int | str) -> PricePoint:
    """A product's price point by its number (1..n)."""
    price_point = None
    wanted = _as_id(number)
    if wanted is not None:
        price_point = (
            product.price_points.select_related("product", "membership_level__membership").filter(number=wanted).first()
        )
    if price_point is None:
        raise NotFound(f'Price point "{number}" does not exist', code="price_point_not_found")
    return price_point


def price_point_get(*, account: Account, id: int | str, product_id: int | None = None) -> PricePoint:
    """The account's price point by its id (`price_point_id`: unique across products, unlike the
    number within a product), within `product_id` when given. Another account's is reported
    exactly like a missing one."""
    wanted = _as_id(id)
    found = None
    if wanted is not None:
        points = PricePoint.objects.filter(product__account=account, pk=wanted).select_related("product")
        if product_id is not None:
            points = points.filter(product_id=product_id)
        found = points.first()
    if found is None:
        raise NotFound(f'Price point "{id}" does not exist', code="price_point_not_found")
    return found


def transaction_get(*, account: Account, id: int | str) -> Transaction:
    txn_id = _as_id(id)
    txn = (
        Transaction.objects.filter(account=account, pk=txn_id).select_related("lead", "product", "price_point").first()
        if txn_id is not None
        else None
    )
    if txn is None:
        raise NotFound(f'Transaction "{id}" does not exist', code="transaction_not_found")
    return txn


def recurring_subscription_get(*, account: Account, id: int | str) -> RecurringSubscription:
    subscription_id = _as_id(id)
    subscription = (
        RecurringSubscription.objects.filter(lead__account=account, pk=subscription_id).first()
        if subscription_id is not None
        else None
    )
    if subscription is None:
        raise NotFound(f'Subscription "{id}" does not exist', code="subscription_not_found")
    return subscription


def transaction_list(
    *, account: Account, id: int | None = None, lead_email: str | None = None, kind: str | None = None
) -> models.QuerySet:
    """The account's transactions, newest first, optionally by id, by the lead's email
    (case-insensitive) and by kind; with each sale's recurring subscription, if any."""
    transactions = Transaction.objects.filter(account=account).select_related(
        "lead", "product", "price_point", "recurring_subscription"
    )
    if id is not None:
        transactions = transactions.filter(pk=id)
    if lead_email:
        transactions = transactions.filter(lead__in=Lead.objects.filter(account=account).with_email(lead_email))
    if kind:
        transactions = transactions.filter(kind=kind)
    return transactions.order_by("-created_at", "-id")


def subscription_list(
    *, account: Account, id: int | None = None, lead_email: str | None = None, status: str | None = None
) -> models.QuerySet:
    """The account's recurring subscriptions, newest first, optionally by id, by the lead's email
    (case-insensitive) and by status."""
    subscriptions = RecurringSubscription.objects.filter(lead__account=account).select_related(
        "lead", "sale__product", "sale__price_point"
    )
    if id is not None:
        subscriptions = subscriptions.filter(pk=id)
    if lead_email:
        subscriptions = subscriptions.filter(lead__in=Lead.objects.filter(account=account).with_email(lead_email))
    if status:
        subscriptions = subscriptions.filter(status=status)
    return subscriptions.order_by("-created_at", "-id")


# ---------------------------------------------------------------------------------------------
# The lead details document


def _lead_detail_query(lead_id: int, account_id: int) -> models.QuerySet:
    """Everything the lead details document needs besides the lead row, as ONE query (UNION ALL of
    tags, lists, sequences, memberships, the account's custom fields with the lead's value, and their
    options), so the API stays within its query budget whatever the lead or the account holds.
    Columns: kind, id, name, status, number, number2, text."""
    text, number = CharField(), IntegerField()
    # Typed NULLs: PostgreSQL resolves UNION column types branch by branch.
    none_text, none_number = Cast(Value(None), output_field=text), Cast(Value(None), output_field=number)

    def kind(name: str) -> Value:
        return Value(name, output_field=text)

    stored_value = Subquery(
        LeadCustomFieldValue.objects.filter(lead_id=lead_id, field=OuterRef("pk")).values("value")[:1],
        output_field=JSONField(),
    )
    parts = [
        LeadTag.objects.filter(lead_id=lead_id).values_list(
            kind("tag"), "tag_id", "tag__name", none_text, none_number, none_number, none_text
        ),
        ListSubscription.objects.filter(lead_id=lead_id).values_list(
            kind("list"), "list_id", "list__name", "status", none_number, none_number, none_text
        ),
        SequenceSubscription.objects.filter(lead_id=lead_id).values_list(
            kind("sequence"), "sequence_id", "sequence__name", "status", "step", none_number, none_text
        ),
        MembershipAccess.objects.filter(lead_id=lead_id).values_list(
            kind("membership"), "membership_id", "membership__name", "status", "level_id", none_number, "level__name"
        ),
        CustomField.objects.filter(account_id=account_id).values_list(
            kind("field"), "id", "identifier", "type", none_number, none_number, Cast(stored_value, TextField())
        ),
        CustomFieldOption.objects.filter(field__account_id=account_id).values_list(
            kind("option"), "id", "value", none_text, "field_id", "position", none_text
        ),
    ]
    return parts[0].order_by().union(*(part.order_by() for part in parts[1:]), all=True)


# Compiling six querysets costs more than running them: compiled once per process.
_lead_detail_rows = PreparedQuery(_lead_detail_query, lead_id=-424242001, account_id=-424242002)


def _field_value(field_type: str, stored: str | None, options: list[tuple[int, int, str]]) -> Any:
    value = json.loads(stored) if stored else None
    if field_type not in OPTION_FIELD_TYPES:
        return value if isinstance(value, str) else ""
    chosen = set(value or [])
    return [{"option_id": option_id, "option_value": name} for _, option_id, name in options if option_id in chosen]


def lead_details(lead: Lead) -> dict:
    """THE lead document of the API and of hook payloads: one query besides the lead row, whatever
    the number of custom fields, tags, lists, sequences and memberships."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    for row in _lead_detail_rows.rows(lead_id=lead.pk, account_id=lead.account_id):
        rows[row[0]].append(row)
    return _lead_document(lead, rows)


def lead_document_build(
    lead: Lead,
    *,
    custom_fields: list[tuple[CustomField, list[CustomFieldOption], Any]] = (),
    tags: list = (),
    lists: list[tuple[Any, str]] = (),
    sequences: list[tuple[Any, str, int]] = (),
    memberships: list[tuple[MembershipLevel, str]] = (),
) -> dict:
    """lead_details' document from rows given here rather than read (zaphooks.samples' static samples):
    the same document code. custom_fields: (field, its options, stored value);
    lists: (list, status); sequences: (sequence, status, step); memberships: (level, status)."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    rows["tag"] = [("tag", tag.pk, tag.name, None, None, None, None) for tag in tags]
    rows["list"] = [("list", item.pk, item.name, status, None, None, None) for item, status in lists]
    rows["sequence"] = [("sequence", item.pk, item.name, status, step, None, None) for item, status, step in sequences]
    rows["membership"] = [
        ("membership", level.membership.pk, level.membership.name, status, level.pk, None, level.name)
        for level, status in memberships
    ]
    for field, options, stored in custom_fields:
        text = None if stored is None else json.dumps(stored)
        rows["field"].append(("field", field.pk, field.identifier, field.type, None, None, text))
        for option in options:
            rows["option"].append(("option", option.pk, option.value, None, field.pk, option.position, None))
    return _lead_document(lead, rows)


def _lead_details_many_query(lead_ids: list[int], account_ids: list[int]) -> models.QuerySet:
    """_lead_detail_query for many leads at once: the same branches with the owner (lead or account
    id) as second column, and the leads' custom field values as a branch of their own.
    Columns: kind, owner, id, name, status, number, number2, text."""
    text, number = CharField(), IntegerField()
    none_text, none_number = Cast(Value(None), output_field=text), Cast(Value(None), output_field=number)

    def kind(name: str) -> Value:
        return Value(name, output_field=text)

    parts = [
        LeadTag.objects.filter(lead_id__in=lead_ids).values_list(
            kind("tag"), "lead_id", "tag_id", "tag__name", none_text, none_number, none_number, none_text
        ),
        ListSubscription.objects.filter(lead_id__in=lead_ids).values_list(
            kind("list"), "lead_id", "list_id", "list__name", "status", none_number, none_number, none_text
        ),
        SequenceSubscription.objects.filter(lead_id__in=lead_ids).values_list(
            kind("sequence"), "lead_id", "sequence_id", "sequence__name", "status", "step", none_number, none_text
        ),
        MembershipAccess.objects.filter(lead_id__in=lead_ids).values_list(
            kind("membership"),
            "lead_id",
            "membership_id",
            "membership__name",
            "status",
            "level_id",
            none_number,
            "level__name",
        ),
        CustomField.objects.filter(account_id__in=account_ids).values_list(
            kind("field"), "account_id", "id", "identifier", "type", none_number, none_number, none_text
        ),
        CustomFieldOption.objects.filter(field__account_id__in=account_ids).values_list(
            kind("option"), "field__account_id", "id", "value", none_text, "field_id", "position", none_text
        ),
        LeadCustomFieldValue.objects.filter(lead_id__in=lead_ids).values_list(
            kind("value"), "lead_id", "field_id", none_text, none_text, none_number, none_number, Cast("value", text)
        ),
    ]
    return parts[0].order_by().union(*(part.order_by() for part in parts[1:]), all=True)


FEW_LEADS = 3


def lead_details_many(leads: list[Lead]) -> dict[int, dict]:
    """lead_details for many leads (their rows already read), by lead id: ONE query for the lot.

    The hook relay builds a batch of payloads with it; each document is exactly lead_details'. Up to
    FEW_LEADS leads it runs lead_details per lead (one query each, nothing to compile)."""
    leads = list({lead.pk: lead for lead in leads}.values())
    if len(leads) <= FEW_LEADS:
        # Compiling the seven-branch query costs ~10 ms; lead_details' is compiled once per process.
        return {lead.pk: lead_details(lead) for lead in leads}
    by_lead: dict[int, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    by_account: dict[int, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    values: dict[tuple[int, int], str | None] = {}
    query = _lead_details_many_query([lead.pk for lead in leads], sorted({lead.account_id for lead in leads}))
    for kind, owner, *row in query:
        if kind == "value":
            values[(owner, row[0])] = row[5]
        elif kind in ("field", "option"):
            by_account[owner][kind].append((kind, *row))
        else:
            by_lead[owner][kind].append((kind, *row))
    documents = {}
    for lead in leads:
        rows = by_lead[lead.pk]
        account_rows = by_account[lead.account_id]
        rows["option"] = account_rows["option"]
        rows["field"] = [(*field[:6], values.get((lead.pk, field[1]))) for field in account_rows["field"]]
        documents[lead.pk] = _lead_document(lead, rows)
    return documents


def _lead_document(lead: Lead, rows: dict[str, list[tuple]]) -> dict:
    """The document from the rows of _lead_detail_query's shape, grouped by kind."""
    options: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for _, option_id, name, _, field_id, position, _ in rows["option"]:
        options[field_id].append((position, option_id, name))
    for field_options in options.values():
        field_options.sort()

    def by_name(kind: str) -> list[tuple]:
        return sorted(rows[kind], key=lambda row: (row[2], row[1]))

    document: dict[str, Any] = {"id": lead.pk, "email": lead.email}
    for name in LEAD_PROFILE_FIELDS:
        value = getattr(lead, name)
        document[name] = "" if value is None and name != "ip" else value
    document.update(
        {
            "date_joined": iso_utc(lead.date_joined),
            "score": lead.score,
            "source": lead.source,
            "blacklisted": lead.blacklisted,
            "gdpr_lead_status": GDPR_STATUS_CODES[lead.gdpr_status],
            "gdpr_lead_status_name": lead.gdpr_status,
            "gdpr_lead_status_date": iso_utc(lead.gdpr_status_date),
            "gdpr_lead_status_ip": lead.gdpr_status_ip,
            "custom_fields": [
                {
                    "field_id": field_id,
                    "field_identifier": identifier,
                    "field_type": field_type,
                    "field_value": _field_value(field_type, stored, options[field_id]),
                }
                for _, field_id, identifier, field_type, _, _, stored in sorted(rows["field"], key=lambda row: row[1])
            ],
            "tags": [{"tag_id": tag_id, "tag_name": name} for _, tag_id, name, *_ in by_name("tag")],
            "lists": [
                {"list_id": list_id, "list_name": name, "active": status == ListSubscription.Status.ACTIVE}
                for _, list_id, name, status, *_ in by_name("list")
            ],
            "sequences": [
                {"sequence_id": sequence_id, "sequence_name": name, "step": step, "status": status}
                for _, sequence_id, name, status, step, *_ in by_name("sequence")
            ],
            "memberships": [
                {
                    "membership_id": membership_id,
                    "membership_name": name,
                    "level_id": level_id,
                    "level_name": level_name,
                    "active": status == MembershipAccess.Status.GRANTED,
                }
                for _, membership_id, name, status, level_id, _, level_name in by_name("membership")
            ],
        }
    )
    return document


# ---------------------------------------------------------------------------------------------
# Who may be emailed

EMAILABLE_GDPR_STATUSES = frozenset({GdprStatus.NOT_SUBJECT, GdprStatus.ACCEPTED})


def lead_can_receive_email(lead: Lead) -> bool:
    """The one rule for every email to a lead: not blacklisted and, when the account has GDPR on,
    GDPR status not subject or accepted."""
    if lead.blacklisted:
        return False
    if not lead.account.gdpr_enabled:
        return True
    return lead.gdpr_status in EMAILABLE_GDPR_STATUSES


def gdpr_setting_changes(*, account: Account, limit: int = 20) -> list[GdprSettingChange]:
    """The account's latest GDPR setting changes, newest first, with who made them."""
    return list(
        GdprSettingChange.objects.filter(account=account).select_related("actor").order_by("-changed_at", "-id")[:limit]
    )


# ---------------------------------------------------------------------------------------------
# Events


def reaches_score_matches(details: dict, score: int) -> bool:
    """Does a reaches_score event fire a trigger set for `score`? Exactly once per lead and score:
    when the lead's highest score ever first reaches it."""
    try:
        return int(details["previous_peak"]) < int(score) <= int(details["new_peak"])
    except (KeyError, TypeError, ValueError):
        return False


def event_payload(event: LeadEvent) -> dict:
    """What hook delivery sends: the event, the lead's current details and the action details."""
    return {
        "id": str(event.id),
        "action": event.action,
        "occurred_at": iso_utc(event.occurred_at),
        "lead": lead_details(event.lead),
        "action_details": event.details,
    }


# ---------------------------------------------------------------------------------------------
# The owner's pages: the leads list (keyset-paginated, no COUNT) and a lead's history

LEADS_PER_PAGE = 50


@dataclass(frozen=True)
class LeadPage:
    leads: list[Lead]
    # Pass as `before_id` for the next page; None on the last page.
    next_before_id: int | None


def _prefix(value: str) -> str:
    return value.strip().lower()


def lead_search_filter(q: str) -> models.Q:
    """Starts-with search, case-insensitive: an address (with "@") by email; words by email, first or last
    name; two words as first and last name. Prefix matches are what the text_pattern_ops indexes serve."""
    words = q.split()
    if not words:
        return models.Q()
    if len(words) >= 2:
        return models.Q(first_folded__startswith=_prefix(words[0]), last_folded__startswith=_prefix(words[-1]))
    word = _prefix(words[0])
    if "@" in word:
        return models.Q(email_folded__startswith=word)
    return (
        models.Q(email_folded__startswith=word)
        | models.Q(first_folded__startswith=word)
        | models.Q(last_folded__startswith=word)
    )


def lead_list_page(
    *,
    account: Account,
    q: str = "",
    tag_id: int | None = None,
    list_id: int | None = None,
    gdpr_status: str = "",
    before_id: int | None = None,
    per_page: int = LEADS_PER_PAGE,
) -> LeadPage:
    """One page of the account's leads, newest first, by keyset (id below `before_id`): no OFFSET and no
    COUNT(*), so a page costs the same on page 1 and page 20,000 of a million leads."""
    leads = Lead.objects.filter(account=account).alias(
        email_folded=Lower("email"), first_folded=Lower("first_name"), last_folded=Lower("last_name")
    )
    if q.strip():
        leads = leads.filter(lead_search_filter(q))
    if tag_id is not None:
        leads = leads.filter(models.Exists(LeadTag.objects.filter(lead=models.OuterRef("pk"), tag_id=tag_id)))
    if list_id is not None:
        leads = leads.filter(
            models.Exists(
                ListSubscription.objects.filter(
                    lead=models.OuterRef("pk"), list_id=list_id, status=ListSubscription.Status.ACTIVE
                )
            )
        )
    if gdpr_status:
        leads = leads.filter(gdpr_status=gdpr_status)
    if before_id is not None:
        leads = leads.filter(pk__lt=before_id)
    rows = list(leads.order_by("-pk")[: per_page + 1])
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    return LeadPage(leads=rows, next_before_id=rows[-1].pk if has_next else None)


def lead_history(*, lead: Lead, limit: int = 50) -> dict[str, list]:
    """What the lead detail page shows beside lead_details: the latest points changes, purchases and
    refunds, bookings, subscriptions, partner sign-ups and the activity timeline of its events."""
    return {
        "points": list(PointsChange.objects.filter(lead=lead).order_by("-created_at", "-id")[:limit]),
        "transactions": list(
            Transaction.objects.filter(lead=lead)
            .select_related("product", "price_point")
            .order_by("-created_at")[:limit]
        ),
        "subscriptions": list(
            RecurringSubscription.objects.filter(lead=lead)
            .select_related("sale__product")
            .order_by("-created_at")[:limit]
        ),
        "bookings": list(
            CalendarBooking.objects.filter(lead=lead)
            .select_related("calendar_class__calendar")
            .order_by("-starts_at")[:limit]
        ),
        "partner_signups": list(PartnerSignup.objects.filter(lead=lead).select_related("product")[:limit]),
        "events": list(LeadEvent.objects.filter(lead=lead).order_by("-occurred_at")[:limit]),
    }
