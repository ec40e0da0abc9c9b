"""The API's tag and list actions in one statement each: finding the lead (by id or email) and the asset
(by id or exact name), changing the link between them with its event only if it changed, and reading
the lead document, in one round trip (PostgreSQL; SQLite, `make run`, steps through leads.services).

`lead_tag_assign_read`, `lead_tag_unassign_read`, `lead_list_subscribe_read` and
`lead_list_unsubscribe_read` answer with the lead and its document, as the API returns them, and say a
missing lead or asset exactly as lead_get and asset_resolve do (the lead first). The change itself
is the same as leads.services.engagement's step-by-step services: the same rows, events and details.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone

from accounts.models import Account
from kartra_integrations.errors import NotFound
from kartra_integrations.prepared import (
    PreparedQuery,
    Sql,
    insert_params,
    insert_select_sql,
    json_sql,
    sql_join,
    sql_param,
    statement_rows,
)
from leads.models import Lead, LeadAction, LeadEvent, LeadList, LeadTag, ListSubscription, Tag
from leads.selectors import (
    LEAD_NOT_FOUND,
    asset_lookups,
    asset_not_found,
    asset_resolve,
    lead_detail_rows_sql,
    lead_details,
    lead_document_asset_row,
    lead_document_from_rows,
    lead_get,
    lead_lookup,
)
from leads.services.engagement import (
    lead_list_subscribe_by_ref,
    lead_list_unsubscribe,
    lead_tag_assign_by_ref,
    lead_tag_unassign,
)
from leads.services.events import _lead_event_written, _list_details, _tag_details

ACTIVE, UNSUBSCRIBED = ListSubscription.Status.ACTIVE, ListSubscription.Status.UNSUBSCRIBED


def lead_tag_assign_read(
    *,
    account: Account,
    lead_id: int | str | None = None,
    email: str | None = None,
    test_mode: bool = False,
    tag: int | str,
    create_if_missing: bool = False,
) -> tuple[Lead, dict]:
    """lead_tag_assign_by_ref for a lead named by id or email; a tag that create_if_missing creates
    takes that service's way (the tag and the link in one transaction)."""
    return _read(
        _Named(account, lead_id, email, test_mode),
        TAG_ASSIGN,
        tag,
        lambda lead, create: lead_tag_assign_by_ref(lead=lead, tag=tag, create_if_missing=create),
        create_if_missing,
    )


def lead_tag_unassign_read(
    *,
    account: Account,
    lead_id: int | str | None = None,
    email: str | None = None,
    test_mode: bool = False,
    tag: int | str,
) -> tuple[Lead, dict]:
    return _read(
        _Named(account, lead_id, email, test_mode),
        TAG_UNASSIGN,
        tag,
        lambda lead, _: lead_tag_unassign(lead=lead, tag=asset_resolve(account=account, model=Tag, ref=tag)),
    )


def lead_list_subscribe_read(
    *,
    account: Account,
    lead_id: int | str | None = None,
    email: str | None = None,
    test_mode: bool = False,
    lead_list: int | str,
    create_if_missing: bool = False,
) -> tuple[Lead, dict]:
    """lead_list_subscribe_by_ref for a lead named by id or email: subscribed, or subscribed again
    after unsubscribing; a list that create_if_missing creates takes that service's way."""
    return _read(
        _Named(account, lead_id, email, test_mode),
        LIST_SUBSCRIBE,
        lead_list,
        lambda lead, create: lead_list_subscribe_by_ref(lead=lead, lead_list=lead_list, create_if_missing=create),
        create_if_missing,
    )


def lead_list_unsubscribe_read(
    *,
    account: Account,
    lead_id: int | str | None = None,
    email: str | None = None,
    test_mode: bool = False,
    lead_list: int | str,
) -> tuple[Lead, dict]:
    return _read(
        _Named(account, lead_id, email, test_mode),
        LIST_UNSUBSCRIBE,
        lead_list,
        lambda lead, _: lead_list_unsubscribe(
            lead=lead, lead_list=asset_resolve(account=account, model=LeadList, ref=lead_list)
        ),
    )


@dataclass(frozen=True)
class _Named:
    """How the call names its lead (leads.selectors.lead_lookup's arguments)."""

    account: Account
    lead_id: int | str | None
    email: str | None
    test_mode: bool

    def lead(self) -> Lead:
        return lead_get(account=self.account, id=self.lead_id, email=self.email, test_mode=self.test_mode)


def _read(
    named: _Named,
    change: "_LinkChange",
    ref: int | str,
    step: Callable[[Lead, bool], object],
    create_if_missing: bool = False,
) -> tuple[Lead, dict]:
    """The change in one statement, answering with the lead and its document. `step(lead, create)` is
    the step-by-step service: what SQLite (`make run`) runs, as PostgreSQL does for an asset that
    create_if_missing creates (the statement finds no such asset and writes nothing)."""
    if connection.vendor != "postgresql":  # a write inside WITH is PostgreSQL's
        lead = named.lead()
        step(lead, create_if_missing)
        return lead, lead_details(lead)
    found = _link_read(named, change, ref)
    if not isinstance(found, Lead):
        return found
    if not create_if_missing:
        raise asset_not_found(change.model, ref)
    step(found, True)
    return found, lead_details(found)


# --- the statement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LinkChange:
    """One change of a lead's link to an asset. `write(lead_pk, asset_pk)` is the WITH piece that makes
    it and returns a row only if something changed (its parameters from `values()`); `row(asset)` is
    the lead document's row the asset gives after the change (None: no row)."""

    model: type[Tag] | type[LeadList]
    action: LeadAction
    details: Callable[[Any], dict]
    write: Callable[[str, str], Sql]
    values: Callable[[], dict[str, Any]]
    row: Callable[[Any], tuple | None]


def _columns(model: type[Any]) -> dict[str, str]:
    """The model's quoted columns by field name."""
    quote = connection.ops.quote_name
    return {field.name: quote(field.column) for field in model._meta.concrete_fields if field.column}


def _table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _tag_insert(lead_pk: str, tag_pk: str) -> Sql:
    columns = {"lead_id": lead_pk, "tag_id": tag_pk}
    return insert_select_sql(
        LeadTag, name="link", source="found_lead, found_asset", columns=columns, skip_conflicts=True
    )


def _tag_delete(lead_pk: str, tag_pk: str) -> Sql:
    table, column = _table(LeadTag), _columns(LeadTag)
    return Sql(
        f"DELETE FROM {table} USING found_lead, found_asset "  # noqa: S608 (identifiers from the model's meta)
        f"WHERE {table}.{column['lead']} = {lead_pk} AND {table}.{column['tag']} = {tag_pk} "
        f"RETURNING {table}.{column['id']}"
    )


def _list_subscription_upsert(lead_pk: str, list_pk: str) -> Sql:
    """A new subscription, or an unsubscribed one active again; an active one is left as it is."""
    table, column = _table(ListSubscription), _columns(ListSubscription)
    again = Sql(
        f"({column['lead']}, {column['list']}) DO UPDATE SET {column['status']} = EXCLUDED.{column['status']}, "
        f"{column['subscribed_at']} = EXCLUDED.{column['subscribed_at']}, {column['unsubscribed_at']} = NULL "
        f"WHERE {table}.{column['status']} = %s",
        (("value", UNSUBSCRIBED),),
    )
    columns = {"lead_id": lead_pk, "list_id": list_pk}
    return insert_select_sql(
        ListSubscription, name="link", source="found_lead, found_asset", columns=columns, on_conflict=again
    )


def _list_subscription_end(lead_pk: str, list_pk: str) -> Sql:
    table, column = _table(ListSubscription), _columns(ListSubscription)
    return (
        Sql(
            f"UPDATE {table} SET {column['status']} = %s, {column['unsubscribed_at']} = ",  # noqa: S608 (the model's meta)
            (("value", UNSUBSCRIBED),),
        )
        + sql_param("link.at", "timestamptz")
        + Sql(
            f" FROM found_lead, found_asset WHERE {table}.{column['lead']} = {lead_pk} "  # noqa: S608
            f"AND {table}.{column['list']} = {list_pk} AND {table}.{column['status']} = %s "
            f"RETURNING {table}.{column['id']}",
            (("value", ACTIVE),),
        )
    )


TAG_ASSIGN = _LinkChange(
    Tag,
    LeadAction.ASSIGN_TAG,
    _tag_details,
    _tag_insert,
    lambda: insert_params(LeadTag(), name="link"),
    lead_document_asset_row,
)
TAG_UNASSIGN = _LinkChange(Tag, LeadAction.UNASSIGN_TAG, _tag_details, _tag_delete, dict, lambda tag: None)
LIST_SUBSCRIBE = _LinkChange(
    LeadList,
    LeadAction.LIST_SUBSCRIPTION,
    _list_details,
    _list_subscription_upsert,
    lambda: insert_params(ListSubscription(status=ACTIVE, subscribed_at=timezone.now()), name="link"),
    lambda lead_list: lead_document_asset_row(lead_list, ACTIVE),
)
LIST_UNSUBSCRIBE = _LinkChange(
    LeadList,
    LeadAction.LIST_UNSUBSCRIPTION,
    _list_details,
    _list_subscription_end,
    lambda: {"link.at": timezone.now()},
    lambda lead_list: lead_document_asset_row(lead_list, UNSUBSCRIBED),
)


def _link_read(named: _Named, change: _LinkChange, ref: int | str) -> tuple[Lead, dict] | Lead:
    """The one statement: the lead and its document after the change, or only the lead when the
    account has no such asset (nothing written). NotFound when there is no such lead."""
    account = named.account
    lead_query = lead_lookup(account_id=account.pk, id=named.lead_id, email=named.email, test_mode=named.test_mode)
    asset_queries = asset_lookups(account_id=account.pk, model=change.model, ref=ref)
    if lead_query is None:
        raise NotFound(LEAD_NOT_FOUND, code="lead_not_found")
    if not asset_queries:  # names no asset: nothing to join, only the lead to look for
        return named.lead()
    event = LeadEvent(account_id=account.pk, action=change.action)
    values = {"account_id": account.pk, **insert_params(event, name="event"), **change.values()}
    values |= {f"lead.{name}": value for name, value in lead_query[1].items()}
    for position, (_, lookup_values) in enumerate(asset_queries):
        values |= {f"asset{position}.{name}": value for name, value in lookup_values.items()}
    rows = statement_rows(_link_statement(lead_query[0], tuple(query for query, _ in asset_queries), change), values)
    if not rows:
        raise NotFound(LEAD_NOT_FOUND, code="lead_not_found")
    lead = lead_query[0].instance(rows[0])
    assert lead is not None
    lead.account = account
    asset_at = lead_query[0].width()
    asset = asset_queries[0][0].instance(rows[0][asset_at:])
    if asset is None:
        return lead
    changed_at = asset_at + asset_queries[0][0].width()
    details = [row[changed_at + 1 :] for row in rows]
    if rows[0][changed_at]:
        event.lead, event.details = lead, change.details(asset)
        event._state.adding = False
        _lead_event_written(event)
        # The statement's read does not see its own write: the asset's row is as it is now.
        kind, after = asset.kind, change.row(asset)
        details = [row for row in details if not (row[0] == kind and row[1] == asset.pk)]
        details += [after] if after else []
    return lead, lead_document_from_rows(lead, details)


# Stand-ins for the asset in the event details: the statement swaps them for the asset it finds, so
# the details keep one rule (_tag_details, _list_details).
_STAND_IN_PK, _STAND_IN_NAME = -424242301, "{asset name}"


@cache
def _link_statement(
    lead_query: PreparedQuery[Lead], asset_queries: tuple[PreparedQuery[Any], ...], change: _LinkChange
) -> Sql:
    """WITH the lead, the asset (tried by id, then by name), the change, its event only if it changed
    something: the lead's row, the asset's, whether it changed, and the lead document's rows as they
    were (one row each, the lead and asset columns repeated). Parameters: lead.*, asset<n>.*, event.*,
    link.*, account_id."""
    quote = connection.ops.quote_name
    lead_pk, asset_pk = quote(Lead._meta.pk.attname), quote(change.model._meta.pk.attname)
    found_asset = sql_join(
        [
            f"SELECT * FROM asset{position}"  # noqa: S608 (names of the statement's own parts)
            + "".join(f" WHERE NOT EXISTS (SELECT FROM asset{earlier})" for earlier in range(position))
            for position in range(len(asset_queries))
        ],
        " UNION ALL ",
    )
    assets = [
        Sql(f"asset{position} AS (") + query.sql(prefix=f"asset{position}.") + ")"
        for position, query in enumerate(asset_queries)
    ]
    stand_in = change.model(pk=_STAND_IN_PK, name=_STAND_IN_NAME)
    stand_ins = {_STAND_IN_PK: f"found_asset.{asset_pk}", _STAND_IN_NAME: f"found_asset.{quote('name')}"}
    event = insert_select_sql(
        LeadEvent,
        name="event",
        source="link, found_lead, found_asset",
        columns={"lead_id": f"found_lead.{lead_pk}", "details": json_sql(change.details(stand_in), stand_ins)},
    )
    return (
        "WITH found_lead AS ("  # noqa: S608 (identifiers from the models' meta)
        + lead_query.sql(prefix="lead.")
        + "), "
        + sql_join(assets)
        + ", found_asset AS ("
        + found_asset
        + "), link AS ("
        + change.write(f"found_lead.{lead_pk}", f"found_asset.{asset_pk}")
        + "), event AS ("
        + event
        + ") SELECT found_lead.*, found_asset.*, EXISTS (SELECT FROM link), detail.* FROM found_lead "
        "LEFT JOIN found_asset ON true LEFT JOIN ("
        + lead_detail_rows_sql(lead_id=f"(SELECT {lead_pk} FROM found_lead)")  # noqa: S608
        + ") detail ON true"
    )
