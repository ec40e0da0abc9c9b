"""A lead's engagement: tags, lists, points, sequences and calendar bookings."""

from contextlib import nullcontext
from datetime import datetime, timedelta

from django.utils import timezone

from kartra_integrations.errors import NotFound
from kartra_integrations.limits import SCORE_MAX
from leads.models import (
    Asset,
    CalendarBooking,
    CalendarClass,
    Lead,
    LeadAction,
    LeadList,
    LeadTag,
    ListSubscription,
    PointsChange,
    Sequence,
    SequenceStep,
    SequenceSubscription,
    Tag,
)
from leads.services.assets import asset_get_or_create
from leads.services.events import (
    _calendar_details,
    _insert_with_event,
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
