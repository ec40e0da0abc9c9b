"""The lead details document (what the API returns and every hook payload carries), built for one
lead or many in one query, and the event payload hook delivery sends."""

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models import CharField, IntegerField, JSONField, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Cast

from accounts.models import Account
from kartra_integrations.errors import NotFound
from kartra_integrations.prepared import PreparedQuery, Sql, statement_rows
from leads.models import (
    GDPR_STATUS_CODES,
    LEAD_PROFILE_FIELDS,
    OPTION_FIELD_TYPES,
    CustomField,
    CustomFieldOption,
    Lead,
    LeadCustomFieldValue,
    LeadEvent,
    LeadTag,
    ListSubscription,
    MembershipAccess,
    MembershipLevel,
    SequenceSubscription,
    iso_utc,
)

from .lookups import LEAD_NOT_FOUND, lead_get, lead_lookup

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
    return lead_document_from_rows(lead, _lead_detail_rows.rows(lead_id=lead.pk, account_id=lead.account_id))


def lead_get_with_details(
    *, account: Account, id: int | str | None = None, email: str | None = None
) -> tuple[Lead, dict]:
    """lead_get and lead_details in ONE statement, one round trip: the lead (by id, else by email) and
    its document. NotFound "No lead found" exactly as lead_get says it, another account's lead included."""
    if connection.vendor != "postgresql":  # the statement is PostgreSQL's; SQLite (`make run`) reads twice
        found = lead_get(account=account, id=id, email=email)
        return found, lead_details(found)
    lookup = lead_lookup(account_id=account.pk, id=id, email=email)
    rows = []
    if lookup is not None:
        query, values = lookup
        named = {f"lead.{name}": value for name, value in values.items()}
        rows = statement_rows(_lead_with_details_statement(query), {"account_id": account.pk, **named})
    if not rows:
        raise NotFound(LEAD_NOT_FOUND, code="lead_not_found")
    lead = query.instance(rows[0])
    assert lead is not None  # the statement's rows start with the lead it found
    lead.account = account
    width = query.width()
    return lead, lead_document_from_rows(lead, [row[width:] for row in rows])


@cache  # composed once per lookup: composing costs more than running it
def _lead_with_details_statement(lead_query: PreparedQuery[Lead]) -> Sql:
    """WITH the lead, the document's rows beside its columns (one row each; none: no such lead)."""
    lead_pk = connection.ops.quote_name(Lead._meta.pk.attname)
    return (
        "WITH found_lead AS ("  # noqa: S608 (identifiers from the models' meta)
        + lead_query.sql(prefix="lead.")
        + ") SELECT found_lead.*, detail.* FROM found_lead LEFT JOIN ("
        + lead_detail_rows_sql(lead_id=f"(SELECT {lead_pk} FROM found_lead)")  # noqa: S608 (its own names)
        + ") detail ON true"
    )


@cache
def lead_detail_rows_sql(*, lead_id: str) -> Sql:
    """lead_details' query as a piece of a larger statement that finds or inserts the lead itself:
    `lead_id` is an SQL expression, the account's id the parameter "account_id". Its rows (of
    kind, id, name, status, number, number2, text) give lead_document_from_rows the document."""
    return _lead_detail_rows.sql(lead_id=lead_id)


def lead_document_from_rows(lead: Lead, rows: Iterable[Sequence[Any]]) -> dict:
    """The document from rows of lead_details' query (a row whose kind is NULL, an outer join's
    "nothing", is skipped)."""
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        if row[0] is not None:
            grouped[row[0]].append(tuple(row))
    return _lead_document(lead, grouped)


def lead_document_asset_row(asset: Any, status: str | None = None) -> tuple:
    """The document's row for a tag or a list the lead has (`status`: its list subscription's), in the
    shape of lead_details' query."""
    return (asset.kind, asset.pk, asset.name, status, None, None, None)


def lead_document_build(
    lead: Lead,
    *,
    custom_fields: Iterable[tuple[CustomField, Iterable[CustomFieldOption], Any]] = (),
    tags: Iterable[Any] = (),
    lists: Iterable[tuple[Any, str]] = (),
    sequences: Iterable[tuple[Any, str, int]] = (),
    memberships: Iterable[tuple[MembershipLevel, str]] = (),
) -> dict:
    """lead_details' document from rows given here rather than read (zaphooks.samples' static samples):
    the same document code. custom_fields: (field, its options, stored value);
    lists: (list, status); sequences: (sequence, status, step); memberships: (level, status)."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    rows["tag"] = [lead_document_asset_row(tag) for tag in tags]
    rows["list"] = [lead_document_asset_row(item, status) for item, status in lists]
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
        LeadTag.objects.filter(lead__pk__any=lead_ids).values_list(
            kind("tag"), "lead_id", "tag_id", "tag__name", none_text, none_number, none_number, none_text
        ),
        ListSubscription.objects.filter(lead__pk__any=lead_ids).values_list(
            kind("list"), "lead_id", "list_id", "list__name", "status", none_number, none_number, none_text
        ),
        SequenceSubscription.objects.filter(lead__pk__any=lead_ids).values_list(
            kind("sequence"), "lead_id", "sequence_id", "sequence__name", "status", "step", none_number, none_text
        ),
        MembershipAccess.objects.filter(lead__pk__any=lead_ids).values_list(
            kind("membership"),
            "lead_id",
            "membership_id",
            "membership__name",
            "status",
            "level_id",
            none_number,
            "level__name",
        ),
        CustomField.objects.filter(account__pk__any=account_ids).values_list(
            kind("field"), "account_id", "id", "identifier", "type", none_number, none_number, none_text
        ),
        CustomFieldOption.objects.filter(field__account__pk__any=account_ids).values_list(
            kind("option"), "field__account_id", "id", "value", none_text, "field_id", "position", none_text
        ),
        LeadCustomFieldValue.objects.filter(lead__pk__any=lead_ids).values_list(
            kind("value"), "lead_id", "field_id", none_text, none_text, none_number, none_number, Cast("value", text)
        ),
    ]
    return parts[0].order_by().union(*(part.order_by() for part in parts[1:]), all=True)


# The hook relay runs it for every batch, from one event up: compiling its seven branches cost more
# than running them (py-spy: most of the relay's CPU at 100 events a second). The ids are bound as
# two arrays (`__any`), so one statement serves every batch size.
_lead_details_many_rows = PreparedQuery(_lead_details_many_query, lead_ids=[-424242011], account_ids=[-424242012])


def lead_details_many(leads: list[Lead]) -> dict[int, dict]:
    """lead_details for many leads (their rows already read), by lead id: ONE query for the lot.

    The hook relay builds a batch of payloads with it; each document is exactly lead_details'."""
    leads = list({lead.pk: lead for lead in leads}.values())
    by_lead: dict[int, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    by_account: dict[int, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    values: dict[tuple[int, int], str | None] = {}
    lead_ids, account_ids = [lead.pk for lead in leads], sorted({lead.account_id for lead in leads})
    if connection.vendor == "postgresql":
        found = _lead_details_many_rows.rows(lead_ids=lead_ids, account_ids=account_ids)
    else:  # arrays are PostgreSQL's (`__any` is IN there): compiled for these ids
        found = list(_lead_details_many_query(lead_ids, account_ids))
    for kind, owner, *row in found:
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
# Events


def reaches_score_matches(details: dict, score: int) -> bool:
    """Does a reaches_score event fire a trigger set for `score`? Exactly once per lead and score:
    when the lead's highest score ever first reaches it."""
    try:
        return int(details["previous_peak"]) < int(score) <= int(details["new_peak"])
    except (KeyError, TypeError, ValueError):
        return False


def event_payload_build(
    *, event_id: str, action: str, occurred_at: datetime | None, lead_document: dict, action_details: dict
) -> dict:
    """The one shape of an event as hook delivery sends it (and its samples show it)."""
    return {
        "id": event_id,
        "action": action,
        "occurred_at": iso_utc(occurred_at),
        "lead": lead_document,
        "action_details": action_details,
    }


def event_payload(event: LeadEvent, lead_document: dict | None = None) -> dict:
    """What hook delivery sends for `event`: the event, its lead's details (read now unless the caller
    read them already, e.g. for many events at once) and the action details."""
    return event_payload_build(
        event_id=str(event.id),
        action=event.action,
        occurred_at=event.occurred_at,
        lead_document=lead_details(event.lead) if lead_document is None else lead_document,
        action_details=event.details,
    )
