"""What the platform's other parts (checkout, video player, page tracker, affiliate centre, membership
area, calendar, sequence engine) report about a lead: one event name -> one existing service call.

`platform_event_record` is the service behind `POST /api/v1/events`. It resolves every asset reference
(an id or an exact name) inside the lead's account, calls the one service that owns the change, in one
transaction, and returns the ids of the lead events that change wrote (none for a no-op).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.models import Account
from kartra_integrations.errors import ApplicationError, NotFound

from . import selectors, services
from .models import (
    Asset,
    Calendar,
    CalendarBooking,
    CalendarClass,
    Form,
    Lead,
    LeadAction,
    LeadList,
    Membership,
    Page,
    Product,
    RecurringSubscription,
    Sequence,
    SplitTestLink,
    Tag,
    TrackingLink,
    Video,
)

NOT_REPORTABLE: dict[str, str] = {
    LeadAction.REACHES_SCORE: (
        "reaches_score cannot be reported: it follows from the lead's points. Give the lead points instead."
    ),
}


@dataclass(frozen=True)
class PlatformEventResult:
    event_ids: list[str] = field(default_factory=list)
    transaction_id: int | None = None


def _refused(key: str, error: NotFound) -> ApplicationError:
    """A reference in the body that names nothing in the account: a field error (400), code kept."""
    return ApplicationError(error.message, code=error.code, fields={key: [error.message]})


def _asset(account: Account, model: type[Asset], key: str, ref: Any) -> Asset:
    try:
        return selectors.asset_resolve(account=account, model=model, ref=ref)
    except NotFound as error:
        raise _refused(key, error) from None


def _calendar_class(account: Account, *, calendar: Any, calendar_class: Any) -> CalendarClass:
    resolved = _asset(account, Calendar, "calendar", calendar)
    try:
        return selectors.calendar_class_resolve(calendar=resolved, ref=calendar_class)
    except NotFound as error:
        raise _refused("class", error) from None


def _owned_by(lead: Lead, owner_lead_id: int, key: str, message: str, code: str) -> None:
    if owner_lead_id != lead.pk:
        raise ApplicationError(message, code=code, fields={key: [message]})


# One handler per reportable event: (account, lead, params) -> the sale's id for buy_product, else None.


def _form(account, lead, *, form):
    services.lead_form_filled(lead=lead, form=_asset(account, Form, "form", form))


def _video_play(account, lead, *, video):
    services.lead_video_play_record(lead=lead, video=_asset(account, Video, "video", video))


def _video_complete(account, lead, *, video):
    services.lead_video_complete_record(lead=lead, video=_asset(account, Video, "video", video))


def _tracking_link(account, lead, *, tracking_link):
    link = _asset(account, TrackingLink, "tracking_link", tracking_link)
    services.lead_tracking_link_click_record(lead=lead, tracking_link=link)


def _page_visit(account, lead, *, page):
    services.lead_kartra_page_visit_record(lead=lead, page=_asset(account, Page, "page", page))


def _external_page_visit(account, lead, *, url):
    services.lead_external_page_visit_record(lead=lead, url=url)


def _split_test_link(account, lead, *, split_test_link):
    link = _asset(account, SplitTestLink, "split_test_link", split_test_link)
    services.lead_split_test_link_click_record(lead=lead, split_test_link=link)


def _affiliate_signup(account, lead, *, product):
    services.lead_affiliate_signup(lead=lead, product=_asset(account, Product, "product", product))


def _jv_signup(account, lead, *, product):
    services.lead_jv_signup(lead=lead, product=_asset(account, Product, "product", product))


def _membership_granted(account, lead, *, membership, level):
    resolved = _asset(account, Membership, "membership", membership)
    try:
        membership_level = selectors.membership_level_resolve(membership=resolved, ref=level)
    except NotFound as error:
        raise _refused("level", error) from None
    services.lead_membership_grant(lead=lead, level=membership_level)


def _membership_revoked(account, lead, *, membership):
    services.lead_membership_revoke(lead=lead, membership=_asset(account, Membership, "membership", membership))


def _buy_product(account, lead, *, product, price_point=1, quantity=1, amount: Decimal | None = None):
    resolved = _asset(account, Product, "product", product)
    try:
        chosen = selectors.price_point_resolve(product=resolved, number=price_point)
    except NotFound as error:
        raise _refused("price_point", error) from None
    sale = services.transaction_sale_record(lead=lead, price_point=chosen, quantity=quantity, amount=amount)
    return sale.pk


def _cancel_subscription(account, lead, *, subscription_id=None, product=None):
    """By subscription id, or every active recurring subscription of the lead for a product."""
    if subscription_id is not None:
        try:
            subscription = selectors.recurring_subscription_get(account=account, id=subscription_id)
        except NotFound as error:
            raise _refused("subscription_id", error) from None
        message = f'Subscription "{subscription_id}" does not exist'
        _owned_by(lead, subscription.lead_id, "subscription_id", message, "subscription_not_found")
        services.subscription_cancel(subscription=subscription)
        return None
    resolved = _asset(account, Product, "product", product)
    active = RecurringSubscription.objects.filter(
        lead=lead, sale__product=resolved, status=RecurringSubscription.Status.ACTIVE
    ).order_by("pk")
    for subscription in active:
        services.subscription_cancel(subscription=subscription)
    return None


def _refund(account, lead, *, transaction_id, amount: Decimal | None = None):
    try:
        sale = selectors.transaction_get(account=account, id=transaction_id)
    except NotFound as error:
        raise _refused("transaction_id", error) from None
    message = f'Transaction "{transaction_id}" does not exist'
    _owned_by(lead, sale.lead_id, "transaction_id", message, "transaction_not_found")
    services.transaction_refund(sale=sale, amount=amount)


def _partial_refund(account, lead, *, transaction_id, amount: Decimal):
    _refund(account, lead, transaction_id=transaction_id, amount=amount)


def _sequence_completion(account, lead, *, sequence):
    services.lead_sequence_complete(lead=lead, sequence=_asset(account, Sequence, "sequence", sequence))


def _calendar_subscribe(account, lead, *, calendar, starts_at: datetime, **refs):
    calendar_class = _calendar_class(account, calendar=calendar, calendar_class=refs["class"])
    services.lead_calendar_subscribe(lead=lead, calendar_class=calendar_class, starts_at=starts_at)


def _calendar_cancel(account, lead, *, calendar, **refs):
    calendar_class = _calendar_class(account, calendar=calendar, calendar_class=refs["class"])
    services.lead_calendar_cancel(lead=lead, calendar_class=calendar_class)


def _calendar_complete(account, lead, *, calendar, starts_at: datetime | None = None, **refs):
    """Complete the lead's earliest registered booking of the class (the one at starts_at when given).
    Reporting a completion again is a no-op; a class the lead never booked is refused."""
    calendar_class = _calendar_class(account, calendar=calendar, calendar_class=refs["class"])
    bookings = CalendarBooking.objects.filter(lead=lead, calendar_class=calendar_class).select_related(
        "lead__account__owner", "calendar_class__calendar"
    )
    if starts_at is not None:
        bookings = bookings.filter(starts_at=starts_at)
    booking = bookings.filter(status=CalendarBooking.Status.REGISTERED).order_by("starts_at", "pk").first()
    if booking is not None:
        services.lead_calendar_complete(booking=booking)
        return None
    if not bookings.filter(status=CalendarBooking.Status.COMPLETED).exists():
        message = f'The lead has no booking of class "{calendar_class.name}" to complete.'
        raise ApplicationError(message, code="booking_not_found", fields={"class": [message]})
    return None


def _assign_tag(account, lead, *, tag):
    services.lead_tag_assign(lead=lead, tag=_asset(account, Tag, "tag", tag))


def _unassign_tag(account, lead, *, tag):
    services.lead_tag_unassign(lead=lead, tag=_asset(account, Tag, "tag", tag))


def _list_subscription(account, lead, **refs):
    services.lead_list_subscribe(lead=lead, lead_list=_asset(account, LeadList, "list", refs["list"]))


def _list_unsubscription(account, lead, **refs):
    services.lead_list_unsubscribe(lead=lead, lead_list=_asset(account, LeadList, "list", refs["list"]))


def _sequence_subscription(account, lead, *, sequence, step=1):
    services.lead_sequence_subscribe(lead=lead, sequence=_asset(account, Sequence, "sequence", sequence), step=step)


def _sequence_unsubscription(account, lead, *, sequence):
    services.lead_sequence_unsubscribe(lead=lead, sequence=_asset(account, Sequence, "sequence", sequence))


HANDLERS: dict[str, Callable[..., int | None]] = {
    LeadAction.FILLED_FORM: _form,
    LeadAction.VIDEO_PLAY: _video_play,
    LeadAction.VIDEO_COMPLETE: _video_complete,
    LeadAction.TRACKING_LINK_CLICK: _tracking_link,
    LeadAction.KARTRA_PAGE_VISIT: _page_visit,
    LeadAction.EXTERNAL_PAGE_VISIT: _external_page_visit,
    LeadAction.CLICK_PAGE_SPLIT_TEST_LINK: _split_test_link,
    LeadAction.AFFILIATE_SIGNUP: _affiliate_signup,
    LeadAction.JV_SIGNUP: _jv_signup,
    LeadAction.MEMBERSHIP_GRANTED: _membership_granted,
    LeadAction.MEMBERSHIP_REVOKED: _membership_revoked,
    LeadAction.BUY_PRODUCT: _buy_product,
    LeadAction.CANCEL_SUBSCRIPTION: _cancel_subscription,
    LeadAction.REFUND_PRODUCT: _refund,
    LeadAction.PARTIAL_REFUND_PRODUCT: _partial_refund,
    LeadAction.SEQUENCE_COMPLETION: _sequence_completion,
    LeadAction.CALENDAR_COMPLETE: _calendar_complete,
    LeadAction.CALENDAR_SUBSCRIBE: _calendar_subscribe,
    LeadAction.CALENDAR_CANCEL: _calendar_cancel,
    LeadAction.ASSIGN_TAG: _assign_tag,
    LeadAction.UNASSIGN_TAG: _unassign_tag,
    LeadAction.LIST_SUBSCRIPTION: _list_subscription,
    LeadAction.LIST_UNSUBSCRIPTION: _list_unsubscription,
    LeadAction.SEQUENCE_SUBSCRIPTION: _sequence_subscription,
    LeadAction.SEQUENCE_UNSUBSCRIPTION: _sequence_unsubscription,
}

REPORTABLE_EVENTS: tuple[str, ...] = tuple(HANDLERS)


@transaction.atomic(durable=True)
def platform_event_record(*, account: Account, event: str, lead: Lead, **params: Any) -> PlatformEventResult:
    """Record what a part of the platform reports about `lead`: one service call, one transaction.
    `params` are the event's validated fields (asset references as ids or exact names)."""
    if event in NOT_REPORTABLE:
        raise ApplicationError(
            NOT_REPORTABLE[event], code="event_not_reportable", fields={"event": [NOT_REPORTABLE[event]]}
        )
    handler = HANDLERS.get(event)
    if handler is None:
        message = f'"{event}" is not a platform event.'
        raise ApplicationError(message, code="unknown_event", fields={"event": [message]})
    if lead.account_id != account.pk:
        raise NotFound(selectors.LEAD_NOT_FOUND, code="lead_not_found")
    with services.lead_events_collected() as written:
        transaction_id = handler(account, lead, **params)
    return PlatformEventResult(event_ids=[str(row.pk) for row in written], transaction_id=transaction_id)
