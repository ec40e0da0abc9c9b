"""A lead's engagement: tags, lists, points, sequences and calendar bookings."""

from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import cache

from django.db import connection
from django.utils import timezone

from accounts.models import Account
from kartra_integrations.errors import NotFound
from kartra_integrations.limits import SCORE_MAX
from kartra_integrations.prepared import (
    PreparedQuery,
    Sql,
    insert_params,
    insert_select_sql,
    json_sql,
    sql_join,
    statement_rows,
)
from leads.models import (
    Asset,
    CalendarBooking,
    CalendarClass,
    Lead,
    LeadAction,
    LeadEvent,
    LeadList,
    LeadTag,
    ListSubscription,
    PointsChange,
    Sequence,
    SequenceStep,
    SequenceSubscription,
    Tag,
)
from leads.selectors import (
    LEAD_NOT_FOUND,
    asset_lookups,
    asset_not_found,
    asset_resolve,
    lead_detail_rows_sql,
    lead_details,
    lead_document_from_rows,
    lead_get,
    lead_lookup,
)
from leads.services.assets import asset_get_or_create
from leads.services.events import (
    _calendar_details,
    _insert_with_event,
    _lead_event_written,
    _list_details,
    _score_details,
    _sequence_details,
    _tag_details,
    lead_event_write,
)
from leads.services.leads import _field_error
from leads.services.transactions import lead_transaction

# ---------------------------------------------------------------------------------------------
# Tags and lists


def _check_same_account(lead: Lead, asset: Asset) -> None:
    # Callers resolve assets with selectors.asset_resolve (account-scoped); this is the last guard.
    if asset.account_id != lead.account_id:
        raise NotFound(f'{asset.kind_label()} "{asset.name}" does not exist', code=f"{asset.kind}_not_found")


def lead_tag_assign(*, lead: Lead, tag: Tag) -> bool:
    """Give the lead the tag; True when it did not have it (only then is an event written)."""
    _check_same_account(lead, tag)
    return _insert_with_event(
        LeadTag(lead=lead, tag=tag), lead=lead, action=LeadAction.ASSIGN_TAG, details=_tag_details(tag)
    )


def lead_tag_assign_by_ref(*, lead: Lead, tag: int | str, create_if_missing: bool = False) -> Tag:
    """assign_tag by the tag's id or exact name; with create_if_missing a new name creates the tag in
    the same transaction as the assignment (a failed assignment leaves no tag behind). Without it,
    lead_tag_assign's own transaction is the only one (the API's query budget)."""
    with lead_transaction() if create_if_missing else nullcontext():
        found = asset_get_or_create(account=lead.account, model=Tag, ref=tag, create_if_missing=create_if_missing)
        lead_tag_assign(lead=lead, tag=found)
    return found


def lead_tag_assign_read(
    *,
    account: Account,
    lead_id: int | str | None = None,
    email: str | None = None,
    test_mode: bool = False,
    tag: int | str,
    create_if_missing: bool = False,
) -> tuple[Lead, dict]:
    """lead_tag_assign_by_ref for a lead named by id or email (leads.selectors.lead_lookup), answering
    with the lead and its document (what the API returns). Finding the lead and the tag, the link
    with its event, and the document's read are ONE statement, one round trip; only a tag that
    create_if_missing creates takes lead_tag_assign_by_ref's way. NotFound for the lead first, then
    for the tag, exactly as lead_get and asset_resolve say it."""
    if connection.vendor != "postgresql":  # an INSERT inside WITH is PostgreSQL's; SQLite (`make run`) steps
        lead = lead_get(account=account, id=lead_id, email=email, test_mode=test_mode)
        lead_tag_assign_by_ref(lead=lead, tag=tag, create_if_missing=create_if_missing)
        return lead, lead_details(lead)
    found = _tag_link_read(account=account, lead_id=lead_id, email=email, test_mode=test_mode, tag=tag, assign=True)
    if isinstance(found, Lead):  # no such tag
        if not create_if_missing:
            raise asset_not_found(Tag, tag)
        lead_tag_assign_by_ref(lead=found, tag=tag, create_if_missing=True)
        return found, lead_details(found)
    return found


def lead_tag_unassign_read(
    *,
    account: Account,
    lead_id: int | str | None = None,
    email: str | None = None,
    test_mode: bool = False,
    tag: int | str,
) -> tuple[Lead, dict]:
    """lead_tag_unassign for a lead named by id or email and a tag by id or exact name, answering with
    the lead and its document: like lead_tag_assign_read, ONE statement on PostgreSQL."""
    if connection.vendor != "postgresql":  # a DELETE inside WITH is PostgreSQL's; SQLite (`make run`) steps
        lead = lead_get(account=account, id=lead_id, email=email, test_mode=test_mode)
        lead_tag_unassign(lead=lead, tag=asset_resolve(account=account, model=Tag, ref=tag))
        return lead, lead_details(lead)
    found = _tag_link_read(account=account, lead_id=lead_id, email=email, test_mode=test_mode, tag=tag, assign=False)
    if isinstance(found, Lead):
        raise asset_not_found(Tag, tag)
    return found


def _tag_link_read(
    *, account: Account, lead_id: int | str | None, email: str | None, test_mode: bool, tag: int | str, assign: bool
) -> tuple[Lead, dict] | Lead:
    """The one statement of lead_tag_assign_read (`assign`) or lead_tag_unassign_read: the lead and
    its document after the change, or only the lead when the account has no such tag (nothing
    written). NotFound when there is no such lead."""
    lead_query = lead_lookup(account_id=account.pk, id=lead_id, email=email, test_mode=test_mode)
    tag_queries = asset_lookups(account_id=account.pk, model=Tag, ref=tag)
    if lead_query is None:
        raise NotFound(LEAD_NOT_FOUND, code="lead_not_found")
    if not tag_queries:  # names no tag: nothing to join, only the lead to look for
        return lead_get(account=account, id=lead_id, email=email, test_mode=test_mode)
    action = LeadAction.ASSIGN_TAG if assign else LeadAction.UNASSIGN_TAG
    event = LeadEvent(account_id=account.pk, action=action)
    values = {"account_id": account.pk, **insert_params(event, name="event"), **insert_params(LeadTag(), name="link")}
    values |= {f"lead.{name}": value for name, value in lead_query[1].items()}
    for position, (_, lookup_values) in enumerate(tag_queries):
        values |= {f"tag{position}.{name}": value for name, value in lookup_values.items()}
    statement = _tag_link_statement(lead_query[0], tuple(query for query, _ in tag_queries), assign=assign)
    rows = statement_rows(statement, values)
    if not rows:
        raise NotFound(LEAD_NOT_FOUND, code="lead_not_found")
    lead = lead_query[0].instance(rows[0])
    assert lead is not None
    lead.account = account
    tag_at = lead_query[0].width()
    found = tag_queries[0][0].instance(rows[0][tag_at:])
    if found is None:
        return lead
    changed_at = tag_at + tag_queries[0][0].width()
    changed = bool(rows[0][changed_at])
    if changed:
        event.lead, event.details = lead, _tag_details(found)
        event._state.adding = False
        _lead_event_written(event)
    # The statement's read does not see its own change: the document is corrected for it here.
    details = [row[changed_at + 1 :] for row in rows]
    if changed and not assign:
        details = [row for row in details if not (row[0] == "tag" and row[1] == found.pk)]
    return lead, lead_document_from_rows(lead, details, tags=[found] if changed and assign else [])


# Stand-ins for the tag in the event details lead_tag_assign writes: the statement swaps them for
# the tag it finds, so the details keep one rule (_tag_details).
_STAND_IN_TAG = Tag(pk=-424242301, name="{tag name}")


@cache
def _tag_link_statement(
    lead_query: PreparedQuery[Lead], tag_queries: tuple[PreparedQuery[Tag], ...], *, assign: bool
) -> Sql:
    """WITH the lead, the tag (tried by id, then by name), the link inserted unless present (`assign`)
    or deleted if present, its event only if it was: the lead's row, the tag's, whether the link
    changed, and the lead document's rows as they were (one row each, the lead and tag columns
    repeated). Parameters: lead.*, tag<n>.*, event.*, account_id."""
    quote = connection.ops.quote_name
    lead_pk, tag_pk = quote(Lead._meta.pk.attname), quote(Tag._meta.pk.attname)
    found_tag = sql_join(
        [
            f"SELECT * FROM tag{position}"  # noqa: S608 (names of the statement's own parts)
            + "".join(f" WHERE NOT EXISTS (SELECT FROM tag{earlier})" for earlier in range(position))
            for position in range(len(tag_queries))
        ],
        " UNION ALL ",
    )
    tags = [
        Sql(f"tag{position} AS (") + query.sql(prefix=f"tag{position}.") + ")"
        for position, query in enumerate(tag_queries)
    ]
    if assign:
        link = insert_select_sql(
            LeadTag,
            name="link",
            source="found_lead, found_tag",
            columns={"lead_id": f"found_lead.{lead_pk}", "tag_id": f"found_tag.{tag_pk}"},
            skip_conflicts=True,
        )
    else:
        table = quote(LeadTag._meta.db_table)
        columns = {field.name: quote(field.column) for field in LeadTag._meta.concrete_fields if field.column}
        link = Sql(
            f"DELETE FROM {table} USING found_lead, found_tag WHERE {table}.{columns['lead']} = "  # noqa: S608
            f"found_lead.{lead_pk} AND {table}.{columns['tag']} = found_tag.{tag_pk} RETURNING {table}.{columns['id']}"
        )
    stand_ins = {_STAND_IN_TAG.pk: f"found_tag.{tag_pk}", _STAND_IN_TAG.name: f"found_tag.{quote('name')}"}
    event = insert_select_sql(
        LeadEvent,
        name="event",
        source="link, found_lead, found_tag",
        columns={"lead_id": f"found_lead.{lead_pk}", "details": json_sql(_tag_details(_STAND_IN_TAG), stand_ins)},
    )
    return (
        "WITH found_lead AS ("  # noqa: S608 (identifiers from the models' meta)
        + lead_query.sql(prefix="lead.")
        + "), "
        + sql_join(tags)
        + ", found_tag AS ("
        + found_tag
        + "), link AS ("
        + link
        + "), event AS ("
        + event
        + ") SELECT found_lead.*, found_tag.*, EXISTS (SELECT FROM link), detail.* FROM found_lead "
        "LEFT JOIN found_tag ON true LEFT JOIN ("
        + lead_detail_rows_sql(lead_id=f"(SELECT {lead_pk} FROM found_lead)")  # noqa: S608
        + ") detail ON true"
    )


@lead_transaction
def lead_tag_unassign(*, lead: Lead, tag: Tag) -> bool:
    """Remove the tag; True when the lead had it."""
    _check_same_account(lead, tag)
    deleted, _ = LeadTag.objects.filter(lead=lead, tag=tag).delete()
    if deleted:
        lead_event_write(lead=lead, action=LeadAction.UNASSIGN_TAG, details=_tag_details(tag))
    return bool(deleted)


@lead_transaction
def lead_list_subscribe(*, lead: Lead, lead_list: LeadList) -> ListSubscription:
    _check_same_account(lead, lead_list)
    now = timezone.now()
    subscription, created = ListSubscription.objects.get_or_create(
        lead=lead, list=lead_list, defaults={"subscribed_at": now}
    )
    if not created:
        updated = ListSubscription.objects.filter(
            pk=subscription.pk, status=ListSubscription.Status.UNSUBSCRIBED
        ).update(status=ListSubscription.Status.ACTIVE, subscribed_at=now, unsubscribed_at=None)
        if not updated:
            return subscription
        subscription.refresh_from_db()
    lead_event_write(lead=lead, action=LeadAction.LIST_SUBSCRIPTION, details=_list_details(lead_list))
    return subscription


def lead_list_subscribe_by_ref(*, lead: Lead, lead_list: int | str, create_if_missing: bool = False) -> LeadList:
    """subscribe_lead_to_list by the list's id or exact name; with create_if_missing a new name creates
    the list in the same transaction as the subscription."""
    with lead_transaction() if create_if_missing else nullcontext():
        found = asset_get_or_create(
            account=lead.account, model=LeadList, ref=lead_list, create_if_missing=create_if_missing
        )
        lead_list_subscribe(lead=lead, lead_list=found)
    return found


@lead_transaction
def lead_list_unsubscribe(*, lead: Lead, lead_list: LeadList) -> ListSubscription | None:
    """Unsubscribe; None (and no event) when the lead is not an active subscriber."""
    _check_same_account(lead, lead_list)
    updated = ListSubscription.objects.filter(lead=lead, list=lead_list, status=ListSubscription.Status.ACTIVE).update(
        status=ListSubscription.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now()
    )
    if not updated:
        return None
    lead_event_write(lead=lead, action=LeadAction.LIST_UNSUBSCRIPTION, details=_list_details(lead_list))
    return ListSubscription.objects.get(lead=lead, list=lead_list)


# ---------------------------------------------------------------------------------------------
# Points


def _points_apply(
    *, lead: Lead, delta: int, reason: str, expires_at: datetime | None, clamp: bool = False
) -> PointsChange:
    """The score is a bigint kept within ±SCORE_MAX (what Zapier's JavaScript reads exactly): a
    change past it is refused (400 on `points`), or, for `clamp` (expiry, which must not fail),
    stops at the bound."""
    locked = Lead.objects.select_for_update().only("score", "peak_score").get(pk=lead.pk)
    new_score = locked.score + delta
    if not -SCORE_MAX <= new_score <= SCORE_MAX:
        if not clamp:
            raise _field_error(
                "points",
                f"This would take the lead's score ({locked.score:,}) past {SCORE_MAX:,} either way.",
                code="score_out_of_range",
            )
        new_score = max(-SCORE_MAX, min(SCORE_MAX, new_score))
    change = PointsChange.objects.create(lead=lead, delta=delta, reason=reason, expires_at=expires_at)
    previous_peak = locked.peak_score
    new_peak = max(previous_peak, new_score)
    Lead.objects.filter(pk=lead.pk).update(score=new_score, peak_score=new_peak)
    lead.score, lead.peak_score = new_score, new_peak
    if new_peak > previous_peak:
        lead_event_write(
            lead=lead,
            action=LeadAction.REACHES_SCORE,
            details=_score_details(points=new_score, previous_peak=previous_peak, new_peak=new_peak),
        )
    return change


def _check_points(points: int) -> None:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise _field_error("points", "Give a whole number of points greater than zero.")


@lead_transaction
def lead_points_give(*, lead: Lead, points: int, reason: str = "", expires_in_days: int | None = None) -> PointsChange:
    """Add points; writes reaches_score when the score passes the lead's highest score ever."""
    _check_points(points)
    expires_at = None
    if expires_in_days is not None:
        if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int) or expires_in_days <= 0:
            raise _field_error("expires_in_days", "Give a whole number of days greater than zero.")
        expires_at = timezone.now() + timedelta(days=expires_in_days)
    return _points_apply(lead=lead, delta=points, reason=reason[:200], expires_at=expires_at)


@lead_transaction
def lead_points_remove(*, lead: Lead, points: int, reason: str = "") -> PointsChange:
    _check_points(points)
    return _points_apply(lead=lead, delta=-points, reason=reason[:200], expires_at=None)


@lead_transaction(durable=True)
def points_expire_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Take back points whose expiry has passed (one reversing change each); returns how many."""
    now = now or timezone.now()
    due = list(
        PointsChange.objects.select_for_update(skip_locked=True)
        .filter(expired_at__isnull=True, expires_at__lte=now, delta__gt=0)
        .select_related("lead")[:limit]
    )
    for change in due:
        PointsChange.objects.filter(pk=change.pk).update(expired_at=now)
        reason = f"Expired: {change.reason}"[:200]
        _points_apply(lead=change.lead, delta=-change.delta, reason=reason, expires_at=None, clamp=True)
    return len(due)


# ---------------------------------------------------------------------------------------------
# Sequences


def _step_due_at(sequence: Sequence, position: int, *, after: datetime) -> datetime | None:
    step = SequenceStep.objects.filter(sequence=sequence, position=position).only("delay").first()
    return after + step.delay if step else None


@lead_transaction
def lead_sequence_subscribe(*, lead: Lead, sequence: Sequence, step: int = 1) -> SequenceSubscription:
    """Put the lead on the sequence at `step`. Re-subscribing an active lead only moves its step."""
    _check_same_account(lead, sequence)
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise _field_error("step", "Give a step number of 1 or more.")
    now = timezone.now()
    due_at = _step_due_at(sequence, step, after=now)
    if due_at is None:
        raise _field_error("step", f'Sequence "{sequence.name}" has no step {step}.', code="sequence_step_not_found")
    subscription, created = SequenceSubscription.objects.select_for_update().get_or_create(
        lead=lead,
        sequence=sequence,
        defaults={"step": step, "next_step_due_at": due_at, "subscribed_at": now, "updated_at": now},
    )
    if created:
        lead_event_write(lead=lead, action=LeadAction.SEQUENCE_SUBSCRIPTION, details=_sequence_details(sequence))
        return subscription
    if subscription.status == SequenceSubscription.Status.ACTIVE:
        if subscription.step != step:
            subscription.step, subscription.next_step_due_at, subscription.updated_at = step, due_at, now
            subscription.save(update_fields=["step", "next_step_due_at", "updated_at"])
        return subscription
    subscription.status = SequenceSubscription.Status.ACTIVE
    subscription.step, subscription.next_step_due_at = step, due_at
    subscription.subscribed_at = subscription.updated_at = now
    subscription.save(update_fields=["status", "step", "next_step_due_at", "subscribed_at", "updated_at"])
    lead_event_write(lead=lead, action=LeadAction.SEQUENCE_SUBSCRIPTION, details=_sequence_details(sequence))
    return subscription


def _sequence_leave(*, lead: Lead, sequence: Sequence, status: str, action: LeadAction) -> SequenceSubscription | None:
    _check_same_account(lead, sequence)
    updated = SequenceSubscription.objects.filter(
        lead=lead, sequence=sequence, status=SequenceSubscription.Status.ACTIVE
    ).update(status=status, next_step_due_at=None, updated_at=timezone.now())
    if not updated:
        return None
    lead_event_write(lead=lead, action=action, details=_sequence_details(sequence))
    return SequenceSubscription.objects.get(lead=lead, sequence=sequence)


@lead_transaction
def lead_sequence_unsubscribe(*, lead: Lead, sequence: Sequence) -> SequenceSubscription | None:
    """None (and no event) when the lead is not active on the sequence."""
    return _sequence_leave(
        lead=lead,
        sequence=sequence,
        status=SequenceSubscription.Status.UNSUBSCRIBED,
        action=LeadAction.SEQUENCE_UNSUBSCRIPTION,
    )


@lead_transaction
def lead_sequence_complete(*, lead: Lead, sequence: Sequence) -> SequenceSubscription | None:
    """Called by the sequence engine after the last step; None when not active."""
    return _sequence_leave(
        lead=lead,
        sequence=sequence,
        status=SequenceSubscription.Status.COMPLETED,
        action=LeadAction.SEQUENCE_COMPLETION,
    )


# ---------------------------------------------------------------------------------------------
# Calendars


@lead_transaction
def lead_calendar_subscribe(*, lead: Lead, calendar_class: CalendarClass, starts_at: datetime) -> CalendarBooking:
    """Book the lead on a class at starts_at (not in the past). Booking the same slot twice is a no-op."""
    calendar = calendar_class.calendar
    _check_same_account(lead, calendar)
    if timezone.is_naive(starts_at):
        raise _field_error("starts_at", "Give the start time with its time zone.")
    if starts_at < timezone.now():
        raise _field_error("starts_at", "The start time is in the past.", code="starts_at_in_past")
    existing = CalendarBooking.objects.filter(
        lead=lead, calendar_class=calendar_class, starts_at=starts_at, status=CalendarBooking.Status.REGISTERED
    ).first()
    if existing:
        return existing
    booking = CalendarBooking.objects.create(
        lead=lead, calendar_class=calendar_class, starts_at=starts_at, ends_at=starts_at + calendar_class.duration
    )
    lead_event_write(lead=lead, action=LeadAction.CALENDAR_SUBSCRIBE, details=_calendar_details(booking, lead=lead))
    return booking


@lead_transaction
def lead_calendar_cancel(*, lead: Lead, calendar_class: CalendarClass) -> list[CalendarBooking]:
    """Cancel the lead's registered bookings of the class; one calendar_cancel event per booking."""
    _check_same_account(lead, calendar_class.calendar)
    bookings = list(
        CalendarBooking.objects.select_for_update()
        .filter(lead=lead, calendar_class=calendar_class, status=CalendarBooking.Status.REGISTERED)
        .select_related("calendar_class__calendar")
    )
    now = timezone.now()
    for booking in bookings:
        booking.status, booking.updated_at = CalendarBooking.Status.CANCELLED, now
        booking.save(update_fields=["status", "updated_at"])
        lead_event_write(lead=lead, action=LeadAction.CALENDAR_CANCEL, details=_calendar_details(booking, lead=lead))
    return bookings


@lead_transaction
def lead_calendar_complete(*, booking: CalendarBooking) -> bool:
    """Mark a registered booking completed; True when it changed (so a re-run writes nothing)."""
    updated = CalendarBooking.objects.filter(pk=booking.pk, status=CalendarBooking.Status.REGISTERED).update(
        status=CalendarBooking.Status.COMPLETED, updated_at=timezone.now()
    )
    if not updated:
        return False
    booking.status = CalendarBooking.Status.COMPLETED
    lead = booking.lead
    lead_event_write(lead=lead, action=LeadAction.CALENDAR_COMPLETE, details=_calendar_details(booking, lead=lead))
    return True


def calendar_bookings_complete_ended(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Complete registered bookings whose class has ended (the beat job); returns how many."""
    now = now or timezone.now()
    booking_ids = list(
        CalendarBooking.objects.filter(status=CalendarBooking.Status.REGISTERED, ends_at__lte=now)
        .order_by("ends_at")
        .values_list("pk", flat=True)[:limit]
    )
    completed = 0
    for booking in CalendarBooking.objects.filter(pk__in=booking_ids).select_related(
        "lead__account__owner", "calendar_class__calendar"
    ):
        with lead_transaction(durable=True):
            completed += lead_calendar_complete(booking=booking)
    return completed
