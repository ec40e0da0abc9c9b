"""Reads of the activation review: the moderators' queue, an owner's requests, account history and
the last 30 days' figures."""

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import Account, User
from leads.models import Lead, LeadEvent, Tag

from .models import (
    OPEN_STATES,
    REVIEW_LIMIT,
    REVIEW_RUNNING_STATES,
    ActivationPolicy,
    ActivationPolicyChange,
    ActivationRequest,
    AuditAction,
    AuditEntry,
    RequestKind,
    RequestState,
    SupportNote,
)

FIGURES_WINDOW = timedelta(days=30)


def overdue_condition(now: datetime) -> Q:
    return Q(state=RequestState.PENDING, review_started_at__isnull=True, due_at__lte=now)


def past_review_limit_condition(now: datetime) -> Q:
    """Still waiting on the moderators two weeks (REVIEW_LIMIT) after submission."""
    return Q(state__in=REVIEW_RUNNING_STATES, submitted_at__lte=now - REVIEW_LIMIT)


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def request_queue_order(*, now: datetime) -> QuerySet[ActivationRequest]:
    """Every request annotated `overdue`, in the queue's order: overdue first, then first-in-first-out
    by original submission. Claim-next takes the first pending one in this order."""
    return ActivationRequest.objects.annotate(overdue=_flag(overdue_condition(now))).order_by(
        "-overdue", "submitted_at", "pk"
    )


def request_queue(
    *,
    state: str | None = None,
    overdue: bool = False,
    assigned_to: User | None = None,
    now: datetime | None = None,
) -> QuerySet[ActivationRequest]:
    """The moderators' queue: overdue requests first, then first-in-first-out by original submission.

    Without a state filter it holds the open requests (pending, in review, needs information).
    """
    now = now or timezone.now()
    requests = (
        request_queue_order(now=now)
        .select_related("account__owner", "assigned_to", "api_app")
        .annotate(past_limit=_flag(past_review_limit_condition(now)))
    )
    requests = requests.filter(state=state) if state else requests.filter(state__in=OPEN_STATES)
    if overdue:
        requests = requests.filter(overdue=True)
    if assigned_to is not None:
        requests = requests.filter(assigned_to=assigned_to)
    return requests


def requests_past_review_limit_count(*, now: datetime | None = None) -> int:
    return ActivationRequest.objects.filter(past_review_limit_condition(now or timezone.now())).count()


def request_queue_position(*, activation_request: ActivationRequest, now: datetime | None = None) -> int | None:
    """1 for the next pending request a moderator will take; None when the request is not waiting."""
    if activation_request.state != RequestState.PENDING:
        return None
    now = now or timezone.now()
    earlier = Q(submitted_at__lt=activation_request.submitted_at) | Q(
        submitted_at=activation_request.submitted_at, pk__lt=activation_request.pk
    )
    waiting = request_queue(state=RequestState.PENDING, now=now)
    if ActivationRequest.objects.filter(overdue_condition(now), pk=activation_request.pk).exists():
        ahead = waiting.filter(earlier, overdue=True)
    else:
        ahead = waiting.filter(Q(overdue=True) | earlier)
    return ahead.count() + 1


def requests_for_account(*, account: Account) -> QuerySet[ActivationRequest]:
    return (
        ActivationRequest.objects.filter(account=account, kind=RequestKind.ZAPIER)
        .select_related("assigned_to")
        .order_by("-submitted_at", "-pk")
    )


def request_open_for_account(*, account: Account) -> ActivationRequest | None:
    return ActivationRequest.objects.filter(account=account, kind=RequestKind.ZAPIER, state__in=OPEN_STATES).first()


def go_live_requests_by_app(*, account: Account) -> dict[int, ActivationRequest]:
    """The latest go-live request of each of the account's apps, by app id."""
    latest: dict[int, ActivationRequest] = {}
    requests = ActivationRequest.objects.filter(account=account, kind=RequestKind.API_APP_GO_LIVE)
    for activation_request in requests.order_by("submitted_at", "pk"):
        latest[activation_request.api_app_id] = activation_request
    return latest


def request_get_for_owner(*, account: Account, pk: int) -> ActivationRequest | None:
    return ActivationRequest.objects.select_related("account").filter(account=account, pk=pk).first()


def request_get(*, pk: int) -> ActivationRequest | None:
    return ActivationRequest.objects.select_related("account__owner", "assigned_to", "api_app").filter(pk=pk).first()


def request_audit_trail(*, activation_request: ActivationRequest) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(activation_request=activation_request).select_related("actor")


@dataclass
class AccountHistory:
    """What a decision depends on besides the stated use (see the seed: the account's history)."""

    account: Account
    age: timedelta
    size: list[tuple[str, int]]
    earlier_requests: list[ActivationRequest]
    revocations: list[AuditEntry]
    support_notes: list[SupportNote] = field(default_factory=list)


def account_size(*, account: Account) -> list[tuple[str, int]]:
    """(label, count) facts a moderator weighs: how big the account is and how much it already uses."""
    return [
        ("Leads", Lead.objects.filter(account=account).count()),
        ("Tags", Tag.objects.filter(account=account).count()),
        (
            "Lead events, last 30 days",
            LeadEvent.objects.filter(account=account, occurred_at__gte=timezone.now() - timedelta(days=30)).count(),
        ),
        ("Activation requests", ActivationRequest.objects.filter(account=account).count()),
    ]


def account_history(*, account: Account, current: ActivationRequest | None = None) -> AccountHistory:
    earlier = ActivationRequest.objects.filter(account=account).order_by("-submitted_at", "-pk")
    if current is not None:
        earlier = earlier.exclude(pk=current.pk)
    return AccountHistory(
        account=account,
        age=timezone.now() - account.created_at,
        size=account_size(account=account),
        earlier_requests=list(earlier),
        revocations=list(
            AuditEntry.objects.filter(account=account, action=AuditAction.REVOKED)
            .select_related("actor")
            .order_by("-created_at")
        ),
        support_notes=list(
            SupportNote.objects.filter(activation_request__account=account)
            .select_related("author", "activation_request")
            .order_by("-created_at")
        ),
    )


@dataclass(frozen=True)
class QueueFigures:
    median_to_review_start: timedelta | None
    median_to_decision: timedelta | None
    share_started_within_sla: float | None  # 0..1
    review_starts: int
    decisions: int
    sla_population: int


def queue_figures(*, now: datetime | None = None) -> QueueFigures:
    """The last 30 days: median submission-to-review-start (reviews started in the window), median
    submission-to-decision (approvals and rejections in the window), and the share of requests due in
    the window, or started in it, whose review started by their due time."""
    now = now or timezone.now()
    since = now - FIGURES_WINDOW
    starts = [
        started - submitted
        for submitted, started in ActivationRequest.objects.filter(
            review_started_at__gte=since, review_started_at__lte=now
        ).values_list("submitted_at", "review_started_at")
    ]
    decisions = [
        decided - submitted
        for submitted, decided in ActivationRequest.objects.filter(
            state__in=[RequestState.APPROVED, RequestState.REJECTED, RequestState.REVOKED],
            review_started_at__isnull=False,  # operator approvals skip review
            decided_at__gte=since,
            decided_at__lte=now,
        ).values_list("submitted_at", "decided_at")
    ]
    # A request counts once its outcome is known: its review started, or it still waits past its due
    # time (withdrawn and operator-approved requests never waited for a moderator).
    measured = ActivationRequest.objects.filter(
        Q(review_started_at__gte=since, review_started_at__lte=now)
        | Q(review_started_at__isnull=True, state=RequestState.PENDING, due_at__gte=since, due_at__lte=now)
    )
    rows = list(measured.values_list("due_at", "review_started_at"))
    within = sum(1 for due, started in rows if started is not None and started <= due)
    return QueueFigures(
        median_to_review_start=statistics.median(starts) if starts else None,
        median_to_decision=statistics.median(decisions) if decisions else None,
        share_started_within_sla=within / len(rows) if rows else None,
        review_starts=len(starts),
        decisions=len(decisions),
        sla_population=len(rows),
    )


# --- the activation policy ---------------------------------------------------------------------------


def activation_policy_get() -> ActivationPolicy:
    """The policy row; its defaults (off: every account requests review) when it was never saved."""
    return ActivationPolicy.objects.filter(pk=ActivationPolicy.SINGLETON_PK).first() or ActivationPolicy()


def activation_policy_changes(*, limit: int = 50) -> list[ActivationPolicyChange]:
    return list(ActivationPolicyChange.objects.select_related("actor")[:limit])


@dataclass(frozen=True)
class PolicyCheck:
    label: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class PolicyEvaluation:
    policy: ActivationPolicy
    checks: list[PolicyCheck]

    @property
    def holds(self) -> bool:
        """The account is activated at once: the policy is on and every one of its criteria is met."""
        return self.policy.enabled and all(check.passed for check in self.checks)

    def summary(self) -> str:
        return "; ".join(f"{check.label}: {check.detail}" for check in self.checks)


def activation_policy_evaluate(
    *, account: Account, policy: ActivationPolicy | None = None, now: datetime | None = None
) -> PolicyEvaluation:
    """The policy's criteria, each checked against the account (whether or not the policy is on)."""
    policy = policy or activation_policy_get()
    now = now or timezone.now()
    age_days = (now - account.created_at).days
    checks = [
        PolicyCheck(
            f"account at least {policy.min_account_age_days} days old",
            age_days >= policy.min_account_age_days,
            f"{age_days} days",
        )
    ]
    if policy.require_clean_history:
        # Zapier requests only: a command API app's rejected go-live says nothing about Zapier use.
        rejected = ActivationRequest.objects.filter(
            account=account, kind=RequestKind.ZAPIER, state=RequestState.REJECTED
        ).count()
        revoked = AuditEntry.objects.filter(account=account, action=AuditAction.REVOKED).count()
        checks.append(
            PolicyCheck(
                "no earlier rejection or revocation",
                not rejected and not revoked,
                f"{rejected} rejected, {revoked} revoked",
            )
        )
    return PolicyEvaluation(policy=policy, checks=checks)
