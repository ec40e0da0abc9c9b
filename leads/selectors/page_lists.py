"""The owner's pages: the leads list (keyset-paginated, no COUNT) and a lead's history."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models
from django.db.models.functions import Lower

from accounts.models import Account
from leads.models import (
    CalendarBooking,
    Lead,
    LeadEvent,
    LeadTag,
    ListSubscription,
    PartnerSignup,
    PointsChange,
    RecurringSubscription,
    Transaction,
)

# ---------------------------------------------------------------------------------------------
# The owner's pages: the leads list (keyset-paginated, no COUNT) and a lead's history

LEADS_PER_PAGE = 50


@dataclass(frozen=True)
class LeadPage:
    leads: Sequence[Lead]
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
