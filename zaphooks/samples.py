"""GET /hooks/samples/{event}: recent real events in the delivery payload shape, else one realistic sample.

Zapier shows the sample when a user sets up the trigger and polls this as the fallback, so the
sample is built from the account's own data (its newest lead, the filtered or first asset) and
has a stable id (the same sample is not "new" on every poll).
"""

import uuid
from datetime import UTC, datetime

from accounts.models import Account

from . import filters

SCAN_LIMIT = 500  # recent events of the action read to find three that match the filter
SAMPLE_NAMESPACE = uuid.UUID("8f0a8c3e-5d6b-4b1e-9b0e-2f7f3c1d9a11")


def event_samples(*, account: Account, event: str, resolved: dict, limit: int = 3) -> list[dict]:
    from leads.models import LeadEvent
    from leads.selectors import event_payload, reaches_score_matches

    found = []
    recent = LeadEvent.objects.filter(account=account, action=event).select_related("lead").order_by("-occurred_at")
    for lead_event in recent[:SCAN_LIMIT]:
        if filters.filter_matches(resolved, lead_event.details, score_matches=reaches_score_matches):
            found.append(event_payload(lead_event))
            if len(found) == limit:
                break
    return found or [sample_build(account=account, event=event, resolved=resolved)]


def _first(model, account: Account, pk=None):
    assets = model.objects.filter(account=account)
    if pk is not None:
        assets = assets.filter(pk=pk)
    return assets.order_by("id").first()


def _lead_document(account: Account) -> dict:
    from leads.models import GDPR_STATUS_CODES, LEAD_PROFILE_FIELDS, GdprStatus, Lead
    from leads.selectors import lead_details

    lead = Lead.objects.filter(account=account).order_by("-id").first()
    if lead is not None:
        return lead_details(lead)
    document = {"id": 1, "email": "jane.doe@example.com"}
    document.update(dict.fromkeys(LEAD_PROFILE_FIELDS, ""))
    document.update(
        {
            "first_name": "Jane",
            "last_name": "Doe",
            "ip": None,
            "date_joined": "2025-01-01T12:00:00Z",
            "score": 0,
            "source": "api",
            "blacklisted": False,
            "gdpr_lead_status": GDPR_STATUS_CODES[GdprStatus.UNKNOWN],
            "gdpr_lead_status_name": GdprStatus.UNKNOWN.value,
            "gdpr_lead_status_date": "2025-01-01T12:00:00Z",
            "gdpr_lead_status_ip": None,
            "custom_fields": [],
            "tags": [],
            "lists": [],
            "sequences": [],
            "memberships": [],
        }
    )
    return document


def _named(model, account, pk, key: str, label: str, extra: dict | None = None) -> dict:
    asset = _first(model, account, pk)
    return {
        f"{key}_id": asset.pk if asset else 1,
        f"{key}_name": asset.name if asset else f"Sample {label}",
        **(extra or {}),
    }


def _action_details(account: Account, event: str, resolved: dict, lead: dict) -> dict:  # noqa: C901
    from leads import models as m

    if event in ("assign_tag", "unassign_tag"):
        return {"tag": _named(m.Tag, account, resolved.get("tag"), "tag", "tag")}
    if event in ("list_subscription", "list_unsubscription"):
        return {"list": _named(m.LeadList, account, resolved.get("list"), "list", "list")}
    if event == "filled_form":
        return {"form": _named(m.Form, account, resolved.get("form"), "form", "form")}
    if event.startswith("sequence_"):
        return {"sequence": _named(m.Sequence, account, resolved.get("sequence"), "sequence", "sequence")}
    if event in ("video_play", "video_complete"):
        return {"video": _named(m.Video, account, resolved.get("video"), "video", "video")}
    if event == "tracking_link_click":
        link = _first(m.TrackingLink, account, resolved.get("tracking_link"))
        return {
            "tracking_link": _named(
                m.TrackingLink,
                account,
                resolved.get("tracking_link"),
                "tracking_link",
                "tracking link",
                {"target_url": link.target_url if link else "https://example.com/"},
            )
        }
    if event == "kartra_page_visit":
        return {"kartra_page": _named(m.Page, account, resolved.get("page"), "kartra_page", "page")}
    if event == "external_page_visit":
        return {"external_page": {"url": "https://example.com/pricing"}}
    if event == "click_page_split_test_link":
        return {
            "page_split_test_link": _named(
                m.SplitTestLink, account, resolved.get("split_test_link"), "page_split_test_link", "split test link"
            )
        }
    if event == "reaches_score":
        score = resolved.get("score", 10)
        return {"points": score, "previous_peak": max(score - 5, 0), "new_peak": score}
    if event in ("membership_granted", "membership_revoked"):
        level = m.MembershipLevel.objects.filter(membership__account=account).select_related("membership")
        if resolved.get("membership"):
            level = level.filter(membership_id=resolved["membership"])
        if resolved.get("level"):
            level = level.filter(pk=resolved["level"])
        level = level.order_by("membership_id", "position", "id").first()
        return {
            "membership": {
                "membership_id": level.membership_id if level else 1,
                "membership_name": level.membership.name if level else "Sample membership",
                "level_id": level.pk if level else 1,
                "level_name": level.name if level else "Sample level",
            }
        }
    if event in ("affiliate_signup", "jv_signup"):
        product = _first(m.Product, account, resolved.get("product"))
        name = product.name if product else "Sample product"
        product_id = product.pk if product else 1
        return {"product": {"product_id": product_id, "product_name": name, "official_product_name": name}}
    if event.startswith("calendar_"):
        classes = m.CalendarClass.objects.filter(calendar__account=account).select_related("calendar")
        if resolved.get("calendar"):
            classes = classes.filter(calendar_id=resolved["calendar"])
        if resolved.get("class"):
            classes = classes.filter(pk=resolved["class"])
        found = classes.order_by("calendar_id", "id").first()
        owner = account.owner
        return {
            "calendar": {
                "calendar_id": found.calendar_id if found else 1,
                "calendar_name": found.calendar.name if found else "Sample calendar",
                "class_id": found.pk if found else 1,
                "class_name": found.name if found else "Sample class",
                "hosts": [
                    {
                        "host_first_name": owner.first_name,
                        "host_last_name": owner.last_name,
                        "host_email_address": owner.email,
                    }
                ],
                "vendor_timezone": account.timezone,
                "calendar_subscription_id": 1,
                "starts_at": "2025-01-02T15:00:00Z",
                "ends_at": "2025-01-02T16:00:00Z",
            }
        }
    # buy_product, refund_product, partial_refund_product, cancel_subscription
    points = m.PricePoint.objects.filter(product__account=account).select_related("product")
    if resolved.get("product"):
        points = points.filter(product_id=resolved["product"])
    if resolved.get("price_point"):
        points = points.filter(number=resolved["price_point"])
    point = points.order_by("product_id", "number").first()
    kind = {"refund_product": "refund", "partial_refund_product": "partial_refund"}.get(event, "sale")
    return {
        "transaction_details": {
            "transaction_id": 1,
            "transaction_type": kind,
            "transaction_parent_id": None if kind == "sale" else 1,
            "transaction_date": "2025-01-01T12:00:00Z",
            "lead_id": lead["id"],
            "lead_first_name": lead.get("first_name", ""),
            "lead_last_name": lead.get("last_name", ""),
            "lead_email": lead["email"],
            "lead_username": lead["email"],
            "product_id": point.product_id if point else 1,
            "product_name": point.product.name if point else "Sample product",
            "product_price_point": point.number if point else 1,
            "transaction_quantity": 1,
            "transaction_full_amount": str(point.amount) if point else "99.00",
            "transaction_currency": point.currency if point else "USD",
        }
    }


def sample_build(*, account: Account, event: str, resolved: dict) -> dict:
    lead = _lead_document(account)
    return {
        "id": str(uuid.uuid5(SAMPLE_NAMESPACE, f"{account.pk}:{event}")),
        "action": event,
        "occurred_at": datetime(2025, 1, 1, 12, 0, tzinfo=UTC).isoformat().replace("+00:00", "Z"),
        "lead": lead,
        "action_details": _action_details(account, event, resolved, lead),
    }
