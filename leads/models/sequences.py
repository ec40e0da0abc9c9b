"""A lead's place in a sequence, and each step email the sequence engine sends (once)."""

from django.db import models
from django.utils import timezone

from leads.models.assets import Sequence
from leads.models.lead import Lead


class SequenceSubscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        COMPLETED = "completed", "Completed"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="sequence_subscriptions")
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="subscriptions")
    # Position of the next step to send (the current step).
    step = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    next_step_due_at = models.DateTimeField(null=True, blank=True)
    subscribed_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "sequence"], name="sequencesubscription_unique")]
        indexes = [models.Index(fields=["status", "next_step_due_at"], name="seqsub_due_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} sequence {self.sequence_id} step {self.step} ({self.status})"


class StepDelivery(models.Model):
    """One sequence step for one subscription round: queued, then sending and sent; or held.

    A step whose lead may not be emailed is recorded once as suppressed (by GDPR or blacklist)
    and the subscription stays on it; when the lead becomes eligible the step is queued and sent.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SUPPRESSED = "suppressed", "Suppressed"

    class Reason(models.TextChoices):
        NONE = "", "-"
        GDPR = "gdpr", "Blocked by GDPR"
        BLACKLISTED = "blacklisted", "Lead is blacklisted"
        TEST_LEAD = "test_lead", "Test lead (API test mode)"

    subscription = models.ForeignKey(
        "leads.SequenceSubscription", on_delete=models.CASCADE, related_name="step_deliveries"
    )
    step = models.ForeignKey("leads.SequenceStep", on_delete=models.CASCADE, related_name="deliveries")
    # The subscription's subscribed_at: a lead may go through a sequence more than once.
    round_started_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices)
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True, default="")
    to_email = models.EmailField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "step deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "step", "round_started_at"],
                condition=~models.Q(status="suppressed"),
                name="stepdelivery_one_send_per_round",
            ),
            models.UniqueConstraint(
                fields=["subscription", "step", "round_started_at"],
                condition=models.Q(status="suppressed"),
                name="stepdelivery_one_hold_per_round",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="stepdelivery_status_idx")]

    def __str__(self) -> str:
        return f"{self.step} {self.status}"
