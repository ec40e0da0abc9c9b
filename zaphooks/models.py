"""REST-hook subscriptions and the durable delivery outbox.

The flow: leads writes a LeadEvent (its outbox) in the same transaction as the lead change; the
relay (delivery.events_relay) takes the LeadEvents not relayed yet from leads.outbox (which owns them),
copies each one someone listens to into a HookEvent with its body and creates one Delivery per
matching active Subscription, and marks them relayed, all in one transaction; the dispatcher
(dispatch.py) claims due deliveries, POSTs them, and records every DeliveryAttempt.
"""

import uuid
from typing import Any

from django.db import models
from django.db.models import Q

from accounts.models import Account


class SigningSecret(models.Model):
    """A Standard Webhooks secret (`whsec_...`). During a rotation window two of them sign."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="signing_secrets")
    secret = models.CharField(max_length=80)
    created_at = models.DateTimeField()
    # Null while it is the current secret; set on rotation to the end of the overlap window.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "created_at"])]

    def __str__(self) -> str:
        return f"signing secret of {self.account_id} from {self.created_at:%Y-%m-%d}"


class SubscriptionKind(models.TextChoices):
    ZAPIER = "zapier", "Zap"
    ENDPOINT = "endpoint", "Outbound endpoint"


class SubscriptionState(models.TextChoices):
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"
    DELETED = "deleted", "Deleted"


class Subscription(models.Model):
    """A target URL that receives some of an account's events.

    A Zap (kind zapier) subscribes to exactly one event, optionally narrowed by `filter`; an owner's
    outbound endpoint (kind endpoint) receives every event ticked in `events`. Deleted
    subscriptions are kept (state deleted) so their delivery log stays readable.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="hook_subscriptions")
    kind = models.CharField(max_length=16, choices=SubscriptionKind.choices, default=SubscriptionKind.ZAPIER)
    events = models.JSONField(default=list)
    target_url = models.URLField(max_length=2000)
    # As the client gave it (names or ids) ...
    filter = models.JSONField(default=dict, blank=True)
    # ... and resolved to asset ids (plus "score") at subscribe time, for matching without queries.
    filter_resolved = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=SubscriptionState.choices, default=SubscriptionState.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Start of the current unbroken run of failed attempts; cleared by any success.
    first_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "state"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.id} ({', '.join(self.events)})"

    @property
    def event(self) -> str:
        return self.events[0] if self.events else ""

    @property
    def masked_target(self) -> str:
        """Zapier's target URLs are secrets of a kind: show the host and the last characters only."""
        scheme, _, rest = self.target_url.partition("://")
        host, _, path = rest.partition("/")
        return f"{scheme}://{host}/…{path[-4:]}" if path else f"{scheme}://{host}/"


class HookEvent(models.Model):
    """One relayed lead event: its id is the LeadEvent id (and the `webhook-id`), its body is fixed.

    Storing the serialised body once means every retry and replay sends the same bytes. When the
    event's lead is erased (leads.services.data_rights.lead_erase) the body is emptied and `erased_at` set:
    such an event is never sent again (claim, record and replay check it).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="hook_events")
    action = models.CharField(max_length=40)
    occurred_at = models.DateTimeField()
    body = models.TextField()
    relayed_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "action", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One event to one subscription. The unique pair makes a relay re-run harmless."""

    # Not a column: the lead it was about (selectors.DeliveryLead), set by the delivery log's selectors.
    lead: Any

    event = models.ForeignKey(HookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    # Attempts in the current budget (a replay starts a new budget; the attempt log keeps all).
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A claim is a lease: a crashed dispatcher's claims expire and the sweeper frees them.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Queued (pending or in flight) when the account's Zapier access was revoked: never sent again,
    # not by a retry and not by a replay, even after a re-approval.
    access_revoked = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "subscription"], name="delivery_event_subscription")]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due", condition=Q(state="pending")),
            models.Index(fields=["claimed_until"], name="delivery_claimed", condition=Q(state="sending")),
            models.Index(fields=["subscription", "created_at"]),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"delivery {self.id} ({self.state})"


class DeliveryAttempt(models.Model):
    """Every POST we made: append-only, shown in the owner's delivery log."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_start = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivery", "attempted_at"])]

    def __str__(self) -> str:
        return f"attempt {self.id} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
