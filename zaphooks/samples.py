"""Hook samples, built by the code that builds real deliveries.

`GET /hooks/samples/{event}` answers recent real events in the delivery payload shape, else one
sample built from the account's own data (its newest lead, the filtered or first asset). The Zapier
app's static samples (zapier/lib/samples.json, written by `manage.py zapier_samples`) are built the
same way from a fixed, fictional account. Either way the action_details come from
leads.services.action_details_build and the lead document from leads.selectors (the builders the
services and the delivery use), so a sample has exactly the keys a real delivery has.
"""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from accounts.models import Account, User
from leads import models as m
from leads.models import CustomField, GdprStatus, Lead, LeadAction, LeadEvent
from leads.selectors import (
    event_payload,
    event_payload_build,
    lead_details,
    lead_document_build,
    reaches_score_matches,
)
from leads.services import action_details_build

from . import filters

SCAN_LIMIT = 500  # recent events of the action read to find three that match the filter
SAMPLE_NAMESPACE = uuid.UUID("8f0a8c3e-5d6b-4b1e-9b0e-2f7f3c1d9a11")
SAMPLE_TIME = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

_TRANSACTION_KINDS = {
    "buy_product": "sale",
    "cancel_subscription": "sale",
    "refund_product": "refund",
    "partial_refund_product": "partial_refund",
}


def event_samples(*, account: Account, event: str, resolved: dict, limit: int = 3) -> list[dict]:
    found = []
    recent = LeadEvent.objects.filter(account=account, action=event).select_related("lead").order_by("-occurred_at")
    for lead_event in recent[:SCAN_LIMIT]:
        if filters.filter_matches(resolved, lead_event.details, score_matches=reaches_score_matches):
            found.append(event_payload(lead_event))
            if len(found) == limit:
                break
    return found or [sample_build(account=account, event=event, resolved=resolved)]


def _payload(*, event: str, event_id: str, lead_document: dict, details: dict) -> dict:
    return event_payload_build(
        event_id=event_id, action=event, occurred_at=SAMPLE_TIME, lead_document=lead_document, action_details=details
    )


def _details(event: str, objects: dict) -> dict:
    """action_details of `event` from the sample objects (unsaved model instances), by the services' builder."""
    lead = objects["lead"]
    if event in _TRANSACTION_KINDS:
        point = objects["price_point"]
        kind = _TRANSACTION_KINDS[event]
        sale_amount = point.amount
        txn = m.Transaction(
            pk=objects["transaction_id"] + (0 if kind == "sale" else 1),
            kind=kind,
            parent_id=None if kind == "sale" else objects["transaction_id"],
            product=point.product,
            price_point=point,
            quantity=1,
            amount=sale_amount if kind != "partial_refund" else (sale_amount / 2).quantize(Decimal("0.01")),
            currency=point.currency,
            created_at=SAMPLE_TIME,
        )
        subscription_id = objects["subscription_id"] if point.recurring else None
        return action_details_build(action=event, transaction=txn, lead=lead, subscription_id=subscription_id)
    if event.startswith("calendar_"):
        calendar_class = objects["calendar_class"]
        starts_at = SAMPLE_TIME + timedelta(days=1, hours=3)
        booking = m.CalendarBooking(
            pk=objects["booking_id"],
            calendar_class=calendar_class,
            starts_at=starts_at,
            ends_at=starts_at + calendar_class.duration,
        )
        return action_details_build(action=event, booking=booking, lead=lead)
    if event == "reaches_score":
        score = objects["score"]
        return action_details_build(action=event, points=score, previous_peak=max(score - 5, 0), new_peak=score)
    if event == "external_page_visit":
        return action_details_build(action=event, url=objects["url"])
    keys = {
        "assign_tag": "tag",
        "unassign_tag": "tag",
        "list_subscription": "lead_list",
        "list_unsubscription": "lead_list",
        "filled_form": "form",
        "sequence_subscription": "sequence",
        "sequence_unsubscription": "sequence",
        "sequence_completion": "sequence",
        "tracking_link_click": "tracking_link",
        "video_play": "video",
        "video_complete": "video",
        "affiliate_signup": "product",
        "jv_signup": "product",
        "membership_granted": "level",
        "membership_revoked": "level",
        "kartra_page_visit": "page",
        "click_page_split_test_link": "split_test_link",
    }
    return action_details_build(action=event, **{keys[event]: objects[keys[event]]})


# ---------------------------------------------------------------------------------------------
# Samples of one account (GET /hooks/samples/{event} when it has no matching event yet)


def _first(model, account: Account, pk=None, **filters_):
    assets = model.objects.filter(account=account, **filters_)
    if pk is not None:
        assets = assets.filter(pk=pk)
    return assets.order_by("id").first()


def _account_objects(account: Account, event: str, resolved: dict) -> dict:
    """Only what `event` needs, from the account's data (the filtered asset, else its first), or a
    stand-in named "Sample ..." where the account has none."""

    def named(model, key: str, label: str, **extra):
        return _first(model, account, resolved.get(key)) or model(
            pk=1, account=account, name=f"Sample {label}", **extra
        )

    objects: dict = {"transaction_id": 1, "subscription_id": 1, "booking_id": 1, "url": "https://example.com/pricing"}
    if event in ("assign_tag", "unassign_tag"):
        objects["tag"] = named(m.Tag, "tag", "tag")
    elif event in ("list_subscription", "list_unsubscription"):
        objects["lead_list"] = named(m.LeadList, "list", "list")
    elif event == "filled_form":
        objects["form"] = named(m.Form, "form", "form")
    elif event.startswith("sequence_"):
        objects["sequence"] = named(m.Sequence, "sequence", "sequence")
    elif event in ("video_play", "video_complete"):
        objects["video"] = named(m.Video, "video", "video")
    elif event == "tracking_link_click":
        objects["tracking_link"] = named(
            m.TrackingLink, "tracking_link", "tracking link", target_url="https://example.com/"
        )
    elif event == "kartra_page_visit":
        objects["page"] = named(m.Page, "page", "page")
    elif event == "click_page_split_test_link":
        objects["split_test_link"] = named(m.SplitTestLink, "split_test_link", "split test link")
    elif event == "reaches_score":
        objects["score"] = resolved.get("score", 10)
    elif event in ("affiliate_signup", "jv_signup"):
        objects["product"] = named(m.Product, "product", "product")
    elif event in ("membership_granted", "membership_revoked"):
        levels = m.MembershipLevel.objects.filter(membership__account=account).select_related("membership")
        if resolved.get("membership"):
            levels = levels.filter(membership_id=resolved["membership"])
        if resolved.get("level"):
            levels = levels.filter(pk=resolved["level"])
        objects["level"] = levels.order_by("membership_id", "position", "id").first() or m.MembershipLevel(
            pk=1, name="Sample level", membership=m.Membership(pk=1, account=account, name="Sample membership")
        )
    elif event.startswith("calendar_"):
        classes = m.CalendarClass.objects.filter(calendar__account=account).select_related("calendar")
        if resolved.get("calendar"):
            classes = classes.filter(calendar_id=resolved["calendar"])
        if resolved.get("class"):
            classes = classes.filter(pk=resolved["class"])
        objects["calendar_class"] = classes.order_by("calendar_id", "id").first() or m.CalendarClass(
            pk=1, name="Sample class", calendar=m.Calendar(pk=1, account=account, name="Sample calendar")
        )
    else:  # the transaction events
        points = m.PricePoint.objects.filter(product__account=account).select_related("product")
        if resolved.get("product"):
            points = points.filter(product_id=resolved["product"])
        if resolved.get("price_point"):
            points = points.filter(pk=resolved["price_point"])
        objects["price_point"] = points.order_by("product_id", "number").first() or m.PricePoint(
            pk=1,
            number=1,
            amount=Decimal("99.00"),
            currency="USD",
            recurring=event == "cancel_subscription",
            product=m.Product(pk=1, account=account, name="Sample product"),
        )
    return objects


def _account_lead_document(account: Account) -> tuple[dict, object]:
    """(document, lead): the account's newest lead, else a stand-in with the account's custom fields."""
    lead = Lead.objects.filter(account=account).order_by("-id").first()
    if lead is not None:
        lead.account = account
        return lead_details(lead), lead
    lead = Lead(
        pk=1,
        account=account,
        email="jane.doe@example.com",
        first_name="Jane",
        last_name="Doe",
        date_joined=SAMPLE_TIME,
        gdpr_status=GdprStatus.UNKNOWN,
        gdpr_status_date=SAMPLE_TIME,
    )
    fields = CustomField.objects.filter(account=account).prefetch_related("options").order_by("id")
    document = lead_document_build(lead, custom_fields=[(field, list(field.options.all()), None) for field in fields])
    return document, lead


def sample_build(*, account: Account, event: str, resolved: dict) -> dict:
    document, lead = _account_lead_document(account)
    objects = _account_objects(account, event, resolved)
    objects["lead"] = lead
    return _payload(
        event=event,
        event_id=str(uuid.uuid5(SAMPLE_NAMESPACE, f"{account.pk}:{event}")),
        lead_document=document,
        details=_details(event, objects),
    )


# ---------------------------------------------------------------------------------------------
# The Zapier app's static samples: a fixed, fictional account with one of everything, every field
# filled (no null: Zapier types an output field by its sample value).


def _static_objects() -> tuple[dict, dict]:
    owner = User(first_name="Sam", last_name="Coach", email="sam@example.com")
    account = Account(pk=1, name="Acme Courses", timezone="America/Detroit", owner=owner)
    lead = m.Lead(
        pk=1042,
        account=account,
        email="jane.doe@example.com",
        first_name="Jane",
        last_name="Doe",
        phone_country_code="+1",
        phone="5551234567",
        company="Acme Inc.",
        address="1 Main Street",
        city="Detroit",
        zip="48201",
        state="MI",
        country="US",
        website="https://example.com",
        ip="203.0.113.7",
        ip_country="US",
        lead_preferred_time_zone="America/Detroit",
        source=m.LeadSource.API,
        score=40,
        date_joined=SAMPLE_TIME,
        gdpr_status=m.GdprStatus.ACCEPTED,
        gdpr_status_date=SAMPLE_TIME,
        gdpr_status_ip="203.0.113.7",
    )
    color = m.CustomField(pk=7, account=account, identifier="favourite_color", type=m.CustomFieldType.INPUT_FIELD)
    plan = m.CustomField(pk=8, account=account, identifier="plan", type=m.CustomFieldType.DROP_DOWN)
    plan_options = [
        m.CustomFieldOption(pk=21, field=plan, value="Free", position=0),
        m.CustomFieldOption(pk=22, field=plan, value="Paid", position=1),
    ]
    tag = m.Tag(pk=3, account=account, name="Customer")
    lead_list = m.LeadList(pk=5, account=account, name="Newsletter")
    sequence = m.Sequence(pk=2, account=account, name="Onboarding")
    membership = m.Membership(pk=4, account=account, name="Academy")
    level = m.MembershipLevel(pk=8, membership=membership, name="Basic")
    product = m.Product(pk=12, account=account, name="Course")
    calendar = m.Calendar(pk=10, account=account, name="Coaching")
    objects = {
        "lead": lead,
        "tag": tag,
        "lead_list": lead_list,
        "form": m.Form(pk=9, account=account, name="Lead magnet"),
        "sequence": sequence,
        "tracking_link": m.TrackingLink(pk=13, account=account, name="Promo", target_url="https://example.com/promo"),
        "video": m.Video(pk=6, account=account, name="Welcome"),
        "page": m.Page(pk=14, account=account, name="Sales page"),
        "split_test_link": m.SplitTestLink(pk=15, account=account, name="Hero test"),
        "url": "https://example.com/landing",
        "score": 60,
        "product": product,
        "level": level,
        "price_point": m.PricePoint(
            pk=31, product=product, number=2, amount=Decimal("29.00"), currency="USD", recurring=True
        ),
        "transaction_id": 9001,
        "subscription_id": 14833,
        "calendar_class": m.CalendarClass(pk=11, calendar=calendar, name="Intro call", duration=timedelta(minutes=30)),
        "booking_id": 77,
    }
    lead_rows = {
        "custom_fields": [(color, [], "green"), (plan, plan_options, [22])],
        "tags": [tag],
        "lists": [(lead_list, "active")],
        "sequences": [(sequence, "active", 1)],
        "memberships": [(level, "granted")],
    }
    return objects, lead_rows


def static_samples() -> dict[str, dict]:
    """One sample per event for the Zapier app (zapier/lib/samples.json), deterministic."""
    objects, lead_rows = _static_objects()
    document = lead_document_build(objects["lead"], **lead_rows)
    return {
        event: _payload(
            event=event,
            event_id=str(uuid.uuid5(SAMPLE_NAMESPACE, f"static:{event}")),
            lead_document=document,
            details=_details(event, objects),
        )
        for event in LeadAction.values
    }
