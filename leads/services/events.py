"""The lead event outbox's writer: `lead_event_write` (and the one-statement insert with its
event), the action_details document of each event (`action_details_build`), and the collection
of the events one call wrote (the platform-events endpoint answers with their ids)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models

from kartra_integrations.prepared import insert, insert_if_absent
from leads.models import (
    CALENDAR_EVENTS,
    TRANSACTION_EVENTS,
    CalendarBooking,
    Form,
    Lead,
    LeadAction,
    LeadEvent,
    LeadList,
    MembershipLevel,
    Page,
    Product,
    Sequence,
    SplitTestLink,
    Tag,
    TrackingLink,
    Transaction,
    Video,
    asset_kind,
    iso_utc,
)
from leads.outbox import events_committed
from leads.services.transactions import lead_on_commit

# ---------------------------------------------------------------------------------------------
# The outbox


def lead_event_write(*, lead: Lead, action: LeadAction, details: dict) -> LeadEvent:
    """Append one lead event; call only inside the transaction of the change it records.

    Events are born here, or with their change in one statement by _insert_with_event. After commit,
    hook delivery is woken to relay it at once; were that wake-up lost, the relay's sweep finds the
    event in this table all the same.
    """
    event = _lead_event(lead=lead, action=action, details=details)
    insert(event)
    _lead_event_written(event)
    return event


def _lead_event(*, lead: Lead, action: LeadAction, details: dict) -> LeadEvent:
    return LeadEvent(account_id=lead.account_id, lead=lead, action=action, details=details)


def _lead_event_written(event: LeadEvent) -> None:
    _events_collected_note(event)
    _events_committed_once()


def _insert_with_event(row: models.Model, *, lead: Lead, action: LeadAction, details: dict) -> bool:
    """Insert `row` unless present and, only if it was, its lead event: True when inserted.

    One statement on PostgreSQL: outside a transaction it is atomic by itself and commits without
    BEGIN and COMMIT round trips (an API call that changes one row pays one round trip, not four)."""
    event = _lead_event(lead=lead, action=action, details=details)
    inserted = insert_if_absent(row, then=event)
    if inserted:
        _lead_event_written(event)
    return inserted


def _events_committed_once() -> None:
    """One wake-up per transaction however many events it writes (an import writes thousands, and
    each wake-up is a Redis round-trip, or a Celery message when no dispatcher runs)."""
    lead_on_commit(_wake_hook_delivery, once=True)


def _wake_hook_delivery() -> None:
    events_committed()


# action_details documents (reference section 5), built when the event is written


def _tag_details(tag: Tag) -> dict:
    return {"tag": {"tag_id": tag.pk, "tag_name": tag.name}}


def _list_details(lead_list: LeadList) -> dict:
    return {"list": {"list_id": lead_list.pk, "list_name": lead_list.name}}


def _sequence_details(sequence: Sequence) -> dict:
    return {"sequence": {"sequence_id": sequence.pk, "sequence_name": sequence.name}}


def _membership_details(level: MembershipLevel) -> dict:
    membership = level.membership
    return {
        "membership": {
            "membership_id": membership.pk,
            "membership_name": membership.name,
            "level_id": level.pk,
            "level_name": level.name,
        }
    }


def _product_details(product: Product) -> dict:
    return {"product": {"product_id": product.pk, "product_name": product.name, "official_product_name": product.name}}


def _transaction_details(txn: Transaction, *, lead: Lead, subscription_id: int | None = None) -> dict:
    """`transaction_internal_subscription_id` (the platform's IPN name) is what cancel_transaction takes:
    a Zap gets it from the purchase of a recurring price point."""
    return {
        "transaction_details": {
            "transaction_id": txn.pk,
            "transaction_type": txn.kind,
            "transaction_parent_id": txn.parent_id,
            "transaction_date": iso_utc(txn.created_at),
            "lead_id": lead.pk,
            "lead_first_name": lead.first_name,
            "lead_last_name": lead.last_name,
            "lead_email": lead.email,
            "lead_username": lead.email,
            "product_id": txn.product_id,
            "product_name": txn.product.name,
            "product_price_point": txn.price_point.number,
            "price_point_id": txn.price_point_id,
            "transaction_quantity": txn.quantity,
            "transaction_full_amount": str(txn.amount),
            "transaction_currency": txn.currency,
            "transaction_internal_subscription_id": subscription_id,
            "transaction_test": txn.test,
        }
    }


def _form_details(form: Form) -> dict:
    return {"form": {"form_id": form.pk, "form_name": form.name}}


def _score_details(*, points: int, previous_peak: int, new_peak: int) -> dict:
    return {"points": points, "previous_peak": previous_peak, "new_peak": new_peak}


def _video_details(video: Video) -> dict:
    return {"video": {"video_id": video.pk, "video_name": video.name}}


def _kartra_page_details(page: Page) -> dict:
    return {"kartra_page": {"kartra_page_id": page.pk, "kartra_page_name": page.name}}


def _external_page_details(url: str) -> dict:
    return {"external_page": {"url": url}}


def _tracking_link_details(tracking_link: TrackingLink) -> dict:
    return {
        "tracking_link": {
            "tracking_link_id": tracking_link.pk,
            "tracking_link_name": tracking_link.name,
            "target_url": tracking_link.target_url,
        }
    }


def _split_test_link_details(split_test_link: SplitTestLink) -> dict:
    return {
        "page_split_test_link": {
            "page_split_test_link_id": split_test_link.pk,
            "page_split_test_link_name": split_test_link.name,
        }
    }


def _calendar_details(booking: CalendarBooking, *, lead: Lead) -> dict:
    calendar_class = booking.calendar_class
    calendar = calendar_class.calendar
    account = lead.account
    owner = account.owner
    return {
        "calendar": {
            "calendar_id": calendar.pk,
            "calendar_name": calendar.name,
            "class_id": calendar_class.pk,
            "class_name": calendar_class.name,
            "hosts": [
                {
                    "host_first_name": owner.first_name,
                    "host_last_name": owner.last_name,
                    "host_email_address": owner.email,
                }
            ],
            "vendor_timezone": account.timezone,
            "calendar_subscription_id": booking.pk,
            "starts_at": iso_utc(booking.starts_at),
            "ends_at": iso_utc(booking.ends_at),
        }
    }


# Which events are about which asset (leads.models.ASSET_KINDS), hence share an action_details shape.
_TAG_EVENTS = asset_kind("tag").events
_LIST_EVENTS = asset_kind("list").events
_SEQUENCE_EVENTS = asset_kind("sequence").events
_TRANSACTION_EVENTS = TRANSACTION_EVENTS
_CALENDAR_EVENTS = CALENDAR_EVENTS


def action_details_build(*, action: str, **objects: Any) -> dict:
    """The action_details document of an event of `action`, from the objects its service works on:
    the same builders the services write real events with, for whatever needs the shape without
    writing an event (zaphooks.samples: the hook samples and the Zapier app's static samples).

    Objects by event: tag; lead_list; form; sequence; tracking_link; video; points, previous_peak,
    new_peak; product; level (with its membership); transaction, lead, subscription_id; booking
    (with its class and calendar), lead; page; url; split_test_link."""
    o = objects
    if action in _TAG_EVENTS:
        return _tag_details(o["tag"])
    if action in _LIST_EVENTS:
        return _list_details(o["lead_list"])
    if action in _SEQUENCE_EVENTS:
        return _sequence_details(o["sequence"])
    if action in _TRANSACTION_EVENTS:
        return _transaction_details(o["transaction"], lead=o["lead"], subscription_id=o.get("subscription_id"))
    if action in _CALENDAR_EVENTS:
        return _calendar_details(o["booking"], lead=o["lead"])
    builders: dict[str, Callable[[], dict]] = {
        LeadAction.FILLED_FORM: lambda: _form_details(o["form"]),
        LeadAction.TRACKING_LINK_CLICK: lambda: _tracking_link_details(o["tracking_link"]),
        LeadAction.VIDEO_PLAY: lambda: _video_details(o["video"]),
        LeadAction.VIDEO_COMPLETE: lambda: _video_details(o["video"]),
        LeadAction.REACHES_SCORE: lambda: _score_details(
            points=o["points"], previous_peak=o["previous_peak"], new_peak=o["new_peak"]
        ),
        LeadAction.AFFILIATE_SIGNUP: lambda: _product_details(o["product"]),
        LeadAction.JV_SIGNUP: lambda: _product_details(o["product"]),
        LeadAction.MEMBERSHIP_GRANTED: lambda: _membership_details(o["level"]),
        LeadAction.MEMBERSHIP_REVOKED: lambda: _membership_details(o["level"]),
        LeadAction.KARTRA_PAGE_VISIT: lambda: _kartra_page_details(o["page"]),
        LeadAction.EXTERNAL_PAGE_VISIT: lambda: _external_page_details(o["url"]),
        LeadAction.CLICK_PAGE_SPLIT_TEST_LINK: lambda: _split_test_link_details(o["split_test_link"]),
    }
    if action not in builders:
        raise ValueError(f"Unknown lead event action: {action}")
    return builders[action]()


# ---------------------------------------------------------------------------------------------
# Which events a call wrote (the platform-events endpoint answers with their ids)

_collected_events: ContextVar[list[LeadEvent] | None] = ContextVar("collected_lead_events", default=None)


def _events_collected_note(event: LeadEvent) -> None:
    collected = _collected_events.get()
    if collected is not None:
        collected.append(event)


@contextmanager
def lead_events_collected() -> Iterator[list[LeadEvent]]:
    """Collect the lead events written inside the block (by lead_event_write), in order."""
    collected: list[LeadEvent] = []
    token = _collected_events.set(collected)
    try:
        yield collected
    finally:
        _collected_events.reset(token)
