from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, ApiApp
from kartra_integrations.append_only import AppendOnlyModel


class RequestState(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_REVIEW = "in_review", "In review"
    NEEDS_INFO = "needs_info", "Needs information"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    REVOKED = "revoked", "Revoked"


# An account may hold at most one request in these states (see the partial unique constraint).
OPEN_STATES = (RequestState.PENDING, RequestState.IN_REVIEW, RequestState.NEEDS_INFO)
# The seed: a review "may take a couple weeks at most". A request still waiting on the moderators
# (pending or in review; not needs_info, which waits on the owner) this long after its submission
# shows on the queue and alerts the moderators once.
REVIEW_LIMIT = timedelta(days=14)
REVIEW_RUNNING_STATES = (RequestState.PENDING, RequestState.IN_REVIEW)


class DecisionReason(models.TextChoices):
    USE_CLEAR = "use_clear", "Stated use is clear and allowed"
    HISTORY_GOOD = "history_good", "Account history in good standing"
    USE_UNCLEAR = "use_unclear", "Stated use is unclear"
    USE_NOT_ALLOWED = "use_not_allowed", "Stated use is not allowed"
    ACCOUNT_TOO_NEW = "account_too_new", "Account is too new"
    HISTORY_CONCERNS = "history_concerns", "Account history raises concerns"
    ACTIVATION_POLICY = "activation_policy", "Meets the activation policy"  # set by the policy only

    @classmethod
    def moderator_choices(cls) -> list[tuple[str, str]]:
        return [choice for choice in cls.choices if choice[0] != cls.ACTIVATION_POLICY]

    OTHER = "other", "Other (explain in the note)"


class Outcome(models.TextChoices):
    APPROVED = RequestState.APPROVED.value, "Approve"
    REJECTED = RequestState.REJECTED.value, "Reject"
    NEEDS_INFO = RequestState.NEEDS_INFO.value, "Ask the owner for more information"


class RevocationReason(models.TextChoices):
    TERMS_VIOLATION = "terms_violation", "Terms of service violation"
    ABUSE_REPORTED = "abuse_reported", "Abuse reported"
    OWNER_ASKED = "owner_asked", "The owner asked for it"
    OTHER = "other", "Other (explain in the note)"


class AuditAction(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    WITHDRAWN = "withdrawn", "Withdrawn"
    CLAIMED = "claimed", "Claimed for review"
    CLAIMED_OUT_OF_ORDER = "claimed_out_of_order", "Claimed out of FIFO order"
    DECIDED = "decided", "Decided"
    ANSWERED = "answered", "Owner answered"
    REVOKED = "revoked", "Access revoked"
    OPERATOR_APPROVED = "operator_approved", "Approved by an operator"
    POLICY_APPROVED = "policy_approved", "Activated at once by the activation policy"


class RequestKind(models.TextChoices):
    """What a request asks for. Both kinds share one queue (FIFO, the same SLA, claim-next, audit)."""

    ZAPIER = "zapier", "Zapier activation"
    API_APP_GO_LIVE = "api_app_go_live", "API app go-live"


class ActivationRequest(models.Model):
    """An account's request for Zapier access, or for one of its command API apps to leave test mode
    (`api_app`), worked first-in-first-out by moderators."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activation_requests")
    kind = models.CharField(max_length=16, choices=RequestKind.choices, default=RequestKind.ZAPIER)
    api_app = models.ForeignKey(
        ApiApp, on_delete=models.CASCADE, null=True, blank=True, related_name="go_live_requests"
    )
    stated_use = models.TextField()
    state = models.CharField(max_length=16, choices=RequestState.choices, default=RequestState.PENDING)
    submitted_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(help_text="Review must start by then (one business day after submission).")
    review_started_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_activation_requests",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=32, choices=DecisionReason.choices, blank=True)
    decision_note = models.TextField(blank=True)
    owner_answer = models.TextField(blank=True)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    # Set once when the review runs past REVIEW_LIMIT and the moderators are emailed (never again).
    past_limit_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(state__in=OPEN_STATES, kind=RequestKind.ZAPIER),
                name="one_open_activation_request_per_account",
            ),
            models.UniqueConstraint(
                fields=["api_app"],
                condition=Q(state__in=OPEN_STATES, kind=RequestKind.API_APP_GO_LIVE),
                name="one_open_go_live_request_per_app",
            ),
            models.CheckConstraint(
                condition=Q(kind=RequestKind.ZAPIER, api_app__isnull=True)
                | Q(kind=RequestKind.API_APP_GO_LIVE, api_app__isnull=False),
                name="activation_request_app_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["state", "submitted_at"], name="activation_queue_idx")]

    def __str__(self) -> str:
        return f"Activation request #{self.pk} ({self.account}, {self.kind}, {self.state})"

    @property
    def is_go_live(self) -> bool:
        return self.kind == RequestKind.API_APP_GO_LIVE

    @property
    def subject(self) -> str:
        """What is asked for, in a sentence: "Zapier activation" or "going live of the app X"."""
        if self.is_go_live:
            return f"going live of the API app {self.api_app.name}"
        return "Zapier activation"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_overdue(self) -> bool:
        return self.state == RequestState.PENDING and self.review_started_at is None and self.due_at <= timezone.now()

    @property
    def is_past_review_limit(self) -> bool:
        return self.state in REVIEW_RUNNING_STATES and self.submitted_at <= timezone.now() - REVIEW_LIMIT


class AuditEntry(AppendOnlyModel):
    """Append-only history of every activation transition; actor None means an operator (command line)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activation_audit_entries")
    activation_request = models.ForeignKey(
        ActivationRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    from_state = models.CharField(max_length=16, choices=RequestState.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=RequestState.choices, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.from_state or '-'} -> {self.to_state or '-'}"

    @property
    def actor_label(self) -> str:
        return self.actor.email if self.actor else "operator"

    @property
    def reason_label(self) -> str:
        labels = dict(DecisionReason.choices) if self.action != AuditAction.REVOKED else dict(RevocationReason.choices)
        return labels.get(self.reason, self.reason)


class SupportNote(models.Model):
    """Advice from a support agent on a request; it informs moderators and decides nothing."""

    activation_request = models.ForeignKey(ActivationRequest, on_delete=models.CASCADE, related_name="support_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note by {self.author} on #{self.activation_request_id}"


class ActivationPolicy(models.Model):
    """Which accounts are activated at once when they ask, without a review: one row (pk 1), changed
    only by moderators through services.activation_policy_update, every change recorded in
    ActivationPolicyChange. Off by default: every account requests review (the seed's "some accounts
    might need to request activation" made explicit by the moderators)."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    enabled = models.BooleanField(default=False)
    min_account_age_days = models.PositiveIntegerField(default=30)
    # No earlier request rejected and no earlier revocation: the concerns this project records.
    require_clean_history = models.BooleanField(default=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "activation policy"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="activation_policy_single_row")]

    def __str__(self) -> str:
        return "Activation policy"

    def values(self) -> dict:
        """What a change records and the audit row of a policy activation names."""
        return {
            "enabled": self.enabled,
            "min_account_age_days": self.min_account_age_days,
            "require_clean_history": self.require_clean_history,
        }


class ActivationPolicyChange(AppendOnlyModel):
    """Who changed the activation policy, when, from what to what (like GdprSettingChange)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_values = models.JSONField()
    to_values = models.JSONField()
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"Activation policy change {self.changed_at:%Y-%m-%d %H:%M}"
