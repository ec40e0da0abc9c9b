"""The outbox of lead events: one row per change, written in the change's transaction, with the
event names (LeadAction) the hooks subscribe to."""

import uuid

from django.db import models
from django.utils import timezone

from accounts.models import Account
from leads.models.lead import Lead

# ---------------------------------------------------------------------------------------------
# The outbox of lead events


class LeadAction(models.TextChoices):
    """The platform's 26 outbound action names (reference section 5), labelled with the seed's trigger
    words in title case: the labels people see here and in Zapier (zapier/lib/triggers.js, tested equal).

    Title case: every word capitalized (each part of a hyphenated word too) except, when neither first
    nor last, the articles, coordinating conjunctions and short prepositions:
    a, an, the, and, but, or, nor, for, so, yet, as, at, by, in, of, on, to, via."""

    ASSIGN_TAG = "assign_tag", "Lead Is Assigned Tag"
    UNASSIGN_TAG = "unassign_tag", "Lead Is Unassigned Tag"
    LIST_SUBSCRIPTION = "list_subscription", "Lead Subscribes to List"
    LIST_UNSUBSCRIPTION = "list_unsubscription", "Lead Is Unsubscribed From List"
    FILLED_FORM = "filled_form", "Lead Fills Opt-In Form"
    SEQUENCE_SUBSCRIPTION = "sequence_subscription", "Lead Is Added to Sequence"
    SEQUENCE_UNSUBSCRIPTION = "sequence_unsubscription", "Lead Is Removed From Sequence"
    SEQUENCE_COMPLETION = "sequence_completion", "Lead Completes Sequence"
    TRACKING_LINK_CLICK = "tracking_link_click", "Lead Clicks on a Tracking Link"
    VIDEO_PLAY = "video_play", "Lead Plays a Kartra Video"
    VIDEO_COMPLETE = "video_complete", "Lead Completes a Kartra Video"
    REACHES_SCORE = "reaches_score", "Lead Reaches Score for the First Time"
    AFFILIATE_SIGNUP = "affiliate_signup", "Affiliate Signs Up for Product"
    JV_SIGNUP = "jv_signup", "JV Signs Up for Product"
    MEMBERSHIP_GRANTED = "membership_granted", "Lead Is Granted Access to Membership"
    MEMBERSHIP_REVOKED = "membership_revoked", "Lead Is Revoked Access to Membership"
    BUY_PRODUCT = "buy_product", "Customer Buys Product"
    REFUND_PRODUCT = "refund_product", "Customer Refunds Product"
    CANCEL_SUBSCRIPTION = "cancel_subscription", "Customer Cancels Subscription"
    CALENDAR_SUBSCRIBE = "calendar_subscribe", "Lead Registers a Calendar"
    CALENDAR_COMPLETE = "calendar_complete", "Lead Completes a Calendar"
    CALENDAR_CANCEL = "calendar_cancel", "Lead Cancels a Calendar"
    KARTRA_PAGE_VISIT = "kartra_page_visit", "Lead Visits a Kartra Page"
    EXTERNAL_PAGE_VISIT = "external_page_visit", "Lead Visits External Page"
    CLICK_PAGE_SPLIT_TEST_LINK = "click_page_split_test_link", "Lead Clicks on Page Split Test Link"
    PARTIAL_REFUND_PRODUCT = "partial_refund_product", "Customer Partial Refunds Product"


class LeadEvent(models.Model):
    """One row per lead event, written in the same transaction as the change that caused it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of their own: the account and lead indexes below lead with them.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="lead_events", db_index=False)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events", db_index=False)
    action = models.CharField(max_length=32, choices=LeadAction.choices)
    # The platform's action_details shape, built when the event is written.
    details = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(default=timezone.now)
    # Null until the hook relay (zaphooks.services.events_relay) has handed the event on: the relay
    # reads the rows still null, whenever they committed, so no outage or late commit loses one.
    relayed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["account", "action", "occurred_at"], name="leadevent_account_action_idx"),
            models.Index(fields=["lead", "-occurred_at"], name="leadevent_lead_idx"),
            # Only the few rows not relayed yet: the relay's scan costs the same at any table size.
            models.Index(
                fields=["occurred_at"], name="leadevent_unrelayed_idx", condition=models.Q(relayed_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.occurred_at:%Y-%m-%d %H:%M:%S}"
