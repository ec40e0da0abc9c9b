"""The lead event outbox: the one owner of LeadEvent rows once they are written.

Lead services write a LeadEvent in the same transaction as the change it records (the outbox). Whoever
hands events on (hook delivery, `zaphooks`) reads, locks and marks them only through the functions
here, and builds their payloads from the lead documents read here; it never queries LeadEvent itself.

`leads` imports no app that consumes its events. A consumer registers at app-ready time
(`AppConfig.ready()`):

- `on_events_committed(callback)`: `callback()` runs after each transaction that wrote events commits
  (once per transaction; lead services register `events_committed` with `transaction.on_commit`);
- `on_events_erased(callback)`: `callback(event_ids=..., now=...)` runs inside a lead's erasure
  transaction, so a consumer erases its own copies of that lead's events in the same commit.

Reading, for the relay (call inside its transaction):

- `events_take_unrelayed(limit=..., at=...)`: the oldest events not relayed yet, locked (SKIP LOCKED)
  and marked relayed in the relay's transaction;
- `event_payloads(events)`: what is sent for each event, the lead documents read in bulk.

And for a consumer's log: `event_leads(account_id=..., event_ids=...)`, the lead each event was about.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from django.db import connection
from django.db.models import QuerySet

from kartra_integrations.prepared import PreparedQuery, Sql, sql_param, statement_rows

from .models import Lead, LeadEvent
from .selectors import event_payload, lead_details_many

logger = logging.getLogger(__name__)


class ErasedCallback(Protocol):
    def __call__(self, *, event_ids: Iterable[Any] | QuerySet, now: datetime) -> Any: ...


_committed: list[Callable[[], None]] = []
_erased: list[ErasedCallback] = []


def on_events_committed(callback: Callable[[], None]) -> None:
    """Call `callback()` after every transaction that writes lead events commits (idempotent)."""
    if callback not in _committed:
        _committed.append(callback)


def on_events_erased(callback: ErasedCallback) -> None:
    """Call `callback(event_ids=..., now=...)` in the transaction that erases those events' lead."""
    if callback not in _erased:
        _erased.append(callback)


def events_committed() -> None:
    """The on-commit callback of a transaction that wrote events: tells every registered consumer.

    Runs after commit, so it never raises: a consumer that fails is logged, and finds the events
    in the outbox later all the same (they stay unrelayed until it marks them)."""
    for callback in list(_committed):
        try:
            callback()
        except Exception:
            logger.exception("lead events committed: %r failed", callback)


def events_erased(*, event_ids: Iterable[Any] | QuerySet, now: datetime) -> None:
    """A lead is being erased (call inside its erasure transaction): every consumer erases its copies.

    A failure raises and rolls the erasure back: no copy may survive a completed erasure."""
    for callback in list(_erased):
        callback(event_ids=event_ids, now=now)


def events_take_unrelayed(*, limit: int, at: datetime) -> list[LeadEvent]:
    """The oldest LeadEvents not relayed yet, in occurred_at order, locked and marked relayed `at` in the
    caller's transaction: the relay hands them on in that transaction, and a rollback leaves them
    unrelayed. Call inside a transaction.

    SKIP LOCKED: rows another relay holds are left to it. An index scan of the partial index of
    unrelayed rows (leadevent_unrelayed_idx, in occurred_at order) that stops at `limit`, so the cost
    does not grow with the outbox. No join: joined to the leads, PostgreSQL chose a bitmap scan of
    every dead entry of that index per lead (57 ms for nothing to do).

    On PostgreSQL one statement, UPDATE ... WHERE id IN (that scan) RETURNING the rows, written once:
    a relay of one event made nine round trips, this is one of the two it saves. Elsewhere (SQLite,
    `make run`) a read and an update.
    """
    if connection.vendor != "postgresql":
        events = _unrelayed(limit).instances()
        LeadEvent.objects.filter(pk__in=[event.pk for event in events]).update(relayed_at=at)
        for event in events:
            event.relayed_at = at
        return events
    rows = statement_rows(_take_unrelayed_statement(limit), {"at": at})
    events = [taken for row in rows if (taken := _event_columns.instance(row)) is not None]
    return sorted(events, key=lambda event: event.occurred_at)


def _unrelayed_events(limit: int) -> QuerySet[LeadEvent]:
    return (
        LeadEvent.objects.select_for_update(skip_locked=True)
        .filter(relayed_at__isnull=True)
        .order_by("occurred_at")[:limit]
    )


@cache  # one per batch size: LIMIT is part of the compiled SQL
def _unrelayed(limit: int) -> PreparedQuery[LeadEvent]:
    return PreparedQuery(lambda: _unrelayed_events(limit))


# Every column of an event, in the order of the model's fields: what RETURNING gives back.
_event_columns = PreparedQuery(lambda: LeadEvent.objects.all())


@cache
def _take_unrelayed_statement(limit: int) -> Sql:
    quote, meta = connection.ops.quote_name, LeadEvent._meta
    columns = [field.column for field in meta.concrete_fields]
    pk_column, relayed_at_column = meta.pk.column, meta.get_field("relayed_at").column
    assert pk_column and relayed_at_column and all(columns)  # concrete fields: columns of their own
    pks = PreparedQuery(lambda: _unrelayed_events(limit).only("pk")).sql()
    # Identifiers from the model's meta; the time is a parameter.
    return (
        f"UPDATE {quote(meta.db_table)} SET {quote(relayed_at_column)} = "  # noqa: S608
        + sql_param("at")
        + f" WHERE {quote(pk_column)} IN ("
        + pks
        + f") RETURNING {', '.join(quote(column) for column in columns if column)}"
    )


def event_payloads(events: list[LeadEvent]) -> dict[Any, dict]:
    """Each event's payload by event id; the leads and their documents read in two queries whatever
    the number of events (leads.selectors.lead_details_many)."""
    if not events:
        return {}
    leads = _leads_by_id.instances(ids=list({event.lead_id for event in events}))
    documents = lead_details_many(leads)
    return {event.pk: event_payload(event, documents[event.lead_id]) for event in events}


_leads_by_id = PreparedQuery(lambda ids: Lead.objects.filter(pk__any=ids), ids=[-424242031])


@dataclass(frozen=True)
class EventLead:
    """The lead an event was about, as a consumer's log shows it."""

    id: int
    email: str
    erased: bool


def event_leads(*, account_id: int, event_ids: list) -> dict[Any, EventLead]:
    """event id -> EventLead, in one query; only the account's own events and leads (an event whose
    lead no longer exists is left out)."""
    rows = LeadEvent.objects.filter(account_id=account_id, lead__account_id=account_id, pk__in=event_ids)
    return {
        event_id: EventLead(id=lead_id, email=email, erased=erased_at is not None)
        for event_id, lead_id, email, erased_at in rows.values_list(
            "pk", "lead_id", "lead__email", "lead__erasure__erased_at"
        )
    }
