"""Every write of the activation review: each transition checks who may make it, changes the row
under a lock, appends its AuditEntry in the same transaction and sends mail after commit."""

from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, ApiApp, ApiAppMode, User
from accounts.services import api_app_make_live, credential_epoch_bump
from kartra_integrations.errors import ApplicationError
from zaphooks.services import account_subscriptions_stop

from . import emails, selectors
from .business_days import next_business_day_same_time
from .models import (
    OPEN_STATES,
    ActivationPolicy,
    ActivationPolicyChange,
    ActivationRequest,
    AuditAction,
    AuditEntry,
    DecisionReason,
    Outcome,
    RequestKind,
    RequestState,
    RevocationReason,
    SupportNote,
)

STATED_USE_MIN_LENGTH = 20
OPERATOR_STATED_USE = "Activated by an operator from the command line."


def _forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, code="forbidden", status_code=403)


def _require_owner(actor: User, account: Account) -> None:
    if actor.pk != account.owner_id:
        raise _forbidden("Only the account's owner may do this.")


def _require_moderator(actor: User) -> None:
    if not actor.is_moderator:
        raise _forbidden("Only moderators may do this.")


def _invalid_transition(activation_request: ActivationRequest, verb: str) -> ApplicationError:
    return ApplicationError(
        f"This request is {activation_request.get_state_display().lower()}; it cannot be {verb}.",
        code="invalid_transition",
        status_code=409,
    )


def _locked(activation_request: ActivationRequest) -> ActivationRequest:
    return ActivationRequest.objects.select_for_update().select_related("account").get(pk=activation_request.pk)


def _audit(
    *,
    actor: User | None,
    account: Account,
    action: AuditAction,
    activation_request: ActivationRequest | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    note: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        account=account,
        activation_request=activation_request,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        note=note,
    )


def _required_note(note: str, *, field: str, message: str) -> None:
    if not note.strip():
        raise ApplicationError(message, code="invalid", fields={field: [message]})


def _request_queue(
    *, actor: User, account: Account, kind: str, stated_use: str, now, api_app: ApiApp | None = None
) -> ActivationRequest:
    """A new pending request of either kind at the back of the queue: its row, its audit entry, and
    the owner's receipt email after commit. Called inside the submitting service's transaction."""
    activation_request = ActivationRequest.objects.create(
        account=account,
        kind=kind,
        api_app=api_app,
        stated_use=stated_use,
        submitted_at=now,
        due_at=next_business_day_same_time(now),
    )
    _audit(
        actor=actor,
        account=account,
        activation_request=activation_request,
        action=AuditAction.SUBMITTED,
        to_state=RequestState.PENDING,
    )
    transaction.on_commit(partial(emails.request_received_email_send, activation_request_id=activation_request.pk))
    return activation_request


def request_submit(*, actor: User, account: Account, stated_use: str) -> ActivationRequest:
    """The owner asks for Zapier access. One open request per account (also a DB constraint)."""
    _require_owner(actor, account)
    stated_use = stated_use.strip()
    if len(stated_use) < STATED_USE_MIN_LENGTH:
        message = (
            f"Tell us in a few sentences what you will use Zapier for (at least {STATED_USE_MIN_LENGTH} characters)."
        )
        raise ApplicationError(message, code="invalid", fields={"stated_use": [message]})
    if Account.objects.filter(pk=account.pk, zapier_activated=True).exists():
        raise ApplicationError(
            "Zapier access is already activated for this account.", code="already_activated", status_code=409
        )
    open_exists = ApplicationError(
        "This account already has an open activation request.", code="open_request_exists", status_code=409
    )
    if ActivationRequest.objects.filter(account=account, kind=RequestKind.ZAPIER, state__in=OPEN_STATES).exists():
        raise open_exists
    try:
        with transaction.atomic(durable=True):
            now = timezone.now()
            evaluation = selectors.activation_policy_evaluate(account=account, now=now)
            if evaluation.holds:
                return _activate_by_policy(
                    actor=actor, account=account, stated_use=stated_use, evaluation=evaluation, now=now
                )
            activation_request = _request_queue(
                actor=actor, account=account, kind=RequestKind.ZAPIER, stated_use=stated_use, now=now
            )
    except IntegrityError as exc:  # another submission for this account won the race
        raise open_exists from exc
    return activation_request


def api_app_go_live_submit(*, actor: User, api_app: ApiApp, stated_use: str) -> ActivationRequest:
    """The owner asks for one of the account's command API apps to leave test mode: a request of the
    second kind in the same queue (FIFO, the same SLA, claim-next, audit). Always reviewed: the
    activation policy is about Zapier access."""
    _require_owner(actor, api_app.account)
    stated_use = stated_use.strip()
    if len(stated_use) < STATED_USE_MIN_LENGTH:
        message = f"Tell us in a few sentences what the app does (at least {STATED_USE_MIN_LENGTH} characters)."
        raise ApplicationError(message, code="invalid", fields={"stated_use": [message]})
    open_exists = ApplicationError(
        "This app already has an open go-live request.", code="open_request_exists", status_code=409
    )
    try:
        with transaction.atomic(durable=True):
            api_app = ApiApp.objects.select_for_update().get(pk=api_app.pk)
            if api_app.revoked_at is not None:
                raise ApplicationError("This app is revoked.", code="app_revoked", status_code=409)
            if api_app.mode == ApiAppMode.LIVE:
                raise ApplicationError("This app is live already.", code="already_live", status_code=409)
            if ActivationRequest.objects.filter(api_app=api_app, state__in=OPEN_STATES).exists():
                raise open_exists
            now = timezone.now()
            activation_request = _request_queue(
                actor=actor,
                account=api_app.account,
                kind=RequestKind.API_APP_GO_LIVE,
                stated_use=stated_use,
                now=now,
                api_app=api_app,
            )
    except IntegrityError as exc:  # another submission for this app won the race
        raise open_exists from exc
    return activation_request


def _activate_by_policy(*, actor: User, account: Account, stated_use: str, evaluation, now) -> ActivationRequest:
    """The account meets the moderators' activation policy: approved at once, no review. The audit row
    names the policy, its values and what the account had for each criterion."""
    activation_request = ActivationRequest.objects.create(
        account=account,
        stated_use=stated_use,
        state=RequestState.APPROVED,
        submitted_at=now,
        due_at=next_business_day_same_time(now),
        decided_at=now,
        decision_reason=DecisionReason.ACTIVATION_POLICY,
    )
    Account.objects.filter(pk=account.pk).update(zapier_activated=True)
    account.zapier_activated = True
    credential_epoch_bump(account_id=account.pk)
    policy = evaluation.policy
    values = ", ".join(f"{key}={value}" for key, value in policy.values().items())
    changed = f" (last changed {policy.updated_at:%Y-%m-%d %H:%M} UTC)" if policy.updated_at else ""
    _audit(
        actor=actor,
        account=account,
        activation_request=activation_request,
        action=AuditAction.POLICY_APPROVED,
        to_state=RequestState.APPROVED,
        reason=DecisionReason.ACTIVATION_POLICY,
        note=f"Activation policy{changed}: {values}. The account had {evaluation.summary()}.",
    )
    transaction.on_commit(partial(emails.request_approved_email_send, activation_request_id=activation_request.pk))
    return activation_request


POLICY_MAX_AGE_DAYS = 3650


@transaction.atomic(durable=True)
def activation_policy_update(
    *, actor: User, enabled: bool, min_account_age_days: int, require_clean_history: bool
) -> ActivationPolicy:
    """Moderators set the activation policy; a change records who, when, from what to what."""
    _require_moderator(actor)
    if not 0 <= min_account_age_days <= POLICY_MAX_AGE_DAYS:
        message = f"Enter a number of days from 0 to {POLICY_MAX_AGE_DAYS}."
        raise ApplicationError(message, code="invalid", fields={"min_account_age_days": [message]})
    ActivationPolicy.objects.get_or_create(pk=ActivationPolicy.SINGLETON_PK)
    policy = ActivationPolicy.objects.select_for_update().get(pk=ActivationPolicy.SINGLETON_PK)
    before = policy.values()
    policy.enabled = enabled
    policy.min_account_age_days = min_account_age_days
    policy.require_clean_history = require_clean_history
    after = policy.values()
    if after != before:
        policy.updated_at = timezone.now()
        policy.updated_by = actor
        policy.save()
        ActivationPolicyChange.objects.create(
            actor=actor, from_values=before, to_values=after, changed_at=policy.updated_at
        )
    return policy


@transaction.atomic(durable=True)
def request_withdraw(*, actor: User, activation_request: ActivationRequest) -> ActivationRequest:
    _require_owner(actor, activation_request.account)
    activation_request = _locked(activation_request)
    if not activation_request.is_open:
        raise _invalid_transition(activation_request, "withdrawn")
    from_state = activation_request.state
    activation_request.state = RequestState.WITHDRAWN
    activation_request.save(update_fields=["state"])
    _audit(
        actor=actor,
        account=activation_request.account,
        activation_request=activation_request,
        action=AuditAction.WITHDRAWN,
        from_state=from_state,
        to_state=RequestState.WITHDRAWN,
    )
    return activation_request


OUT_OF_ORDER_REASON_MIN_LENGTH = 10


def _claim_locked(
    *, actor: User, activation_request: ActivationRequest, action: AuditAction, note: str = ""
) -> ActivationRequest:
    """pending -> in_review, assigned to the moderator, on a row this transaction has locked."""
    if activation_request.state == RequestState.IN_REVIEW:
        who = "you" if activation_request.assigned_to_id == actor.pk else activation_request.assigned_to.email
        raise ApplicationError(f"This request was already claimed by {who}.", code="already_claimed", status_code=409)
    if activation_request.state != RequestState.PENDING:
        raise _invalid_transition(activation_request, "claimed")
    activation_request.state = RequestState.IN_REVIEW
    activation_request.assigned_to = actor
    if activation_request.review_started_at is None:
        activation_request.review_started_at = timezone.now()
    activation_request.save(update_fields=["state", "assigned_to", "review_started_at"])
    _audit(
        actor=actor,
        account=activation_request.account,
        activation_request=activation_request,
        action=action,
        from_state=RequestState.PENDING,
        to_state=RequestState.IN_REVIEW,
        note=note,
    )
    return activation_request


@transaction.atomic(durable=True)
def request_claim_next(*, actor: User) -> ActivationRequest:
    """Claim the request at the head of the queue (overdue first, then oldest submission).

    SELECT ... FOR UPDATE SKIP LOCKED: moderators claiming at once each get a different request, none
    waits for another's transaction. PostgreSQL may return no row for LIMIT 1 when the head was
    claimed between its snapshot and its lock, so an empty answer is retried while pending requests
    remain.
    """
    _require_moderator(actor)
    for _ in range(5):
        head = (
            selectors.request_queue_order(now=timezone.now())
            .filter(state=RequestState.PENDING)
            .select_related("account")
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if head is not None:
            return _claim_locked(actor=actor, activation_request=head, action=AuditAction.CLAIMED)
        if not ActivationRequest.objects.filter(state=RequestState.PENDING).exists():
            break
    raise ApplicationError(
        "No request is waiting to be claimed: the queue is empty, or the other moderators are claiming the rest.",
        code="queue_empty",
        status_code=409,
    )


@transaction.atomic(durable=True)
def request_claim(
    *, actor: User, activation_request: ActivationRequest, out_of_order_reason: str = ""
) -> ActivationRequest:
    """Claim one chosen request. The queue is first-in-first-out: taking a request while older ones
    (or overdue ones) wait ahead of it needs a reason, written to the audit trail. The row lock makes a
    second, simultaneous claim wait and then see the request already in review."""
    _require_moderator(actor)
    activation_request = _locked(activation_request)
    action, note = AuditAction.CLAIMED, ""
    if activation_request.state == RequestState.PENDING:
        position = selectors.request_queue_position(activation_request=activation_request)
        if position and position > 1:
            reason = out_of_order_reason.strip()
            if len(reason) < OUT_OF_ORDER_REASON_MIN_LENGTH:
                ahead = position - 1
                message = (
                    f"{ahead} older request{'s are' if ahead > 1 else ' is'} waiting ahead of this one. "
                    "Claim the next request from the queue, or say why this one cannot wait "
                    f"(at least {OUT_OF_ORDER_REASON_MIN_LENGTH} characters)."
                )
                raise ApplicationError(message, code="out_of_order", fields={"out_of_order_reason": [message]})
            action = AuditAction.CLAIMED_OUT_OF_ORDER
            note = f"Claimed ahead of {position - 1} older request(s): {reason}"
    return _claim_locked(actor=actor, activation_request=activation_request, action=action, note=note)


_DECISION_EMAILS = {
    Outcome.APPROVED: emails.request_approved_email_send,
    Outcome.REJECTED: emails.request_rejected_email_send,
    Outcome.NEEDS_INFO: emails.request_needs_info_email_send,
}


@transaction.atomic(durable=True)
def request_decide(
    *, actor: User, activation_request: ActivationRequest, outcome: str, reason: str, note: str = ""
) -> ActivationRequest:
    """in_review -> approved | rejected | needs_info, by the moderator who claimed it."""
    _require_moderator(actor)
    if outcome not in Outcome.values:
        raise ApplicationError(
            "Choose approve, reject or ask for information.", code="invalid", fields={"outcome": ["Unknown outcome."]}
        )
    if reason not in dict(DecisionReason.moderator_choices()):
        raise ApplicationError("Choose a reason from the list.", code="invalid", fields={"reason": ["Unknown reason."]})
    note = note.strip()
    if reason == DecisionReason.OTHER:
        _required_note(note, field="note", message='A note is required when the reason is "Other".')
    if outcome == Outcome.NEEDS_INFO:
        _required_note(note, field="note", message="Tell the owner what information you need.")
    activation_request = _locked(activation_request)
    if activation_request.state != RequestState.IN_REVIEW:
        raise _invalid_transition(activation_request, "decided")
    if activation_request.assigned_to_id != actor.pk:
        raise ApplicationError(
            f"This request is assigned to {activation_request.assigned_to.email}; only they can decide it.",
            code="not_assigned",
            status_code=409,
        )
    now = timezone.now()
    activation_request.state = outcome
    activation_request.decision_reason = reason
    activation_request.decision_note = note
    fields = ["state", "decision_reason", "decision_note"]
    if outcome != Outcome.NEEDS_INFO:
        activation_request.decided_at = now
        fields.append("decided_at")
    activation_request.save(update_fields=fields)
    if outcome == Outcome.APPROVED and activation_request.is_go_live:
        api_app_make_live(actor=actor, api_app=activation_request.api_app)
    elif outcome == Outcome.APPROVED:
        Account.objects.filter(pk=activation_request.account_id).update(zapier_activated=True)
        activation_request.account.zapier_activated = True
        credential_epoch_bump(account_id=activation_request.account_id)
    _audit(
        actor=actor,
        account=activation_request.account,
        activation_request=activation_request,
        action=AuditAction.DECIDED,
        from_state=RequestState.IN_REVIEW,
        to_state=outcome,
        reason=reason,
        note=note,
    )
    transaction.on_commit(partial(_DECISION_EMAILS[outcome], activation_request_id=activation_request.pk))
    return activation_request


@transaction.atomic(durable=True)
def request_answer(*, actor: User, activation_request: ActivationRequest, answer: str) -> ActivationRequest:
    """The owner answers a needs_info request: back to pending, in its original FIFO place."""
    _require_owner(actor, activation_request.account)
    answer = answer.strip()
    _required_note(answer, field="answer", message="Write your answer.")
    activation_request = _locked(activation_request)
    if activation_request.state != RequestState.NEEDS_INFO:
        raise _invalid_transition(activation_request, "answered")
    activation_request.state = RequestState.PENDING
    activation_request.owner_answer = answer
    activation_request.save(update_fields=["state", "owner_answer"])
    _audit(
        actor=actor,
        account=activation_request.account,
        activation_request=activation_request,
        action=AuditAction.ANSWERED,
        from_state=RequestState.NEEDS_INFO,
        to_state=RequestState.PENDING,
        note=answer,
    )
    return activation_request


@transaction.atomic(durable=True)
def account_revoke(*, actor: User, account: Account, reason: str, note: str = "") -> Account:
    """A moderator withdraws an approved account's Zapier access; the API refuses it from now on."""
    _require_moderator(actor)
    if reason not in RevocationReason.values:
        raise ApplicationError("Choose a reason from the list.", code="invalid", fields={"reason": ["Unknown reason."]})
    note = note.strip()
    if reason == RevocationReason.OTHER:
        _required_note(note, field="note", message='A note is required when the reason is "Other".')
    account = Account.objects.select_for_update().get(pk=account.pk)
    if not account.zapier_activated:
        raise ApplicationError(
            "Zapier access is not activated for this account.", code="not_activated", status_code=409
        )
    account.zapier_activated = False
    account.save(update_fields=["zapier_activated"])
    approved = (
        ActivationRequest.objects.select_for_update()
        .filter(account=account, kind=RequestKind.ZAPIER, state=RequestState.APPROVED)
        .order_by("-decided_at", "-pk")
        .first()
    )
    if approved is not None:
        approved.state = RequestState.REVOKED
        approved.save(update_fields=["state"])
    _audit(
        actor=actor,
        account=account,
        activation_request=approved,
        action=AuditAction.REVOKED,
        from_state=RequestState.APPROVED,
        to_state=RequestState.REVOKED,
        reason=reason,
        note=note,
    )
    # Its hooks stop in the same transaction; Zapier is told (DELETE target_url) after commit.
    account_subscriptions_stop(account=account)
    return account


@transaction.atomic  # not durable: create_account runs it in one transaction with the account's creation
def account_approve_by_operator(*, account: Account) -> ActivationRequest:
    """An operator (create_account --zapier-approved) activates the account; the audit actor is None.

    An open request is approved; otherwise an approved request is recorded for the history. No email:
    the operator already knows, and the console mail backend would mix mail into command output.
    """
    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.zapier_activated:
        raise ApplicationError(
            "Zapier access is already activated for this account.", code="already_activated", status_code=409
        )
    now = timezone.now()
    note = "Approved by an operator."
    activation_request = (
        ActivationRequest.objects.select_for_update()
        .filter(account=account, kind=RequestKind.ZAPIER, state__in=OPEN_STATES)
        .first()
    )
    from_state = ""
    if activation_request is None:
        activation_request = ActivationRequest(
            account=account, stated_use=OPERATOR_STATED_USE, submitted_at=now, due_at=next_business_day_same_time(now)
        )
    else:
        from_state = activation_request.state
    activation_request.state = RequestState.APPROVED
    activation_request.decided_at = now
    activation_request.decision_reason = DecisionReason.OTHER
    activation_request.decision_note = note
    activation_request.save()
    account.zapier_activated = True
    account.save(update_fields=["zapier_activated"])
    _audit(
        actor=None,
        account=account,
        activation_request=activation_request,
        action=AuditAction.OPERATOR_APPROVED,
        from_state=from_state,
        to_state=RequestState.APPROVED,
        reason=DecisionReason.OTHER,
        note=note,
    )
    return activation_request


def support_note_add(*, actor: User, activation_request: ActivationRequest, body: str) -> SupportNote:
    """Support agents advise; a note never changes the request's state or place."""
    if not actor.is_support:
        raise _forbidden("Only support agents add advisory notes.")
    body = body.strip()
    _required_note(body, field="body", message="Write the note.")
    return SupportNote.objects.create(activation_request=activation_request, author=actor, body=body)


def _alert_once(*, condition: Q, stamp: str, send) -> list[int]:
    """Stamp each request matching `condition` whose `stamp` field is empty, then email the moderators
    once for the batch after commit. Each row is claimed with a conditional update (the condition
    re-checked), so overlapping runs or a re-delivered task never alert twice."""
    now = timezone.now()
    candidates = ActivationRequest.objects.filter(condition, **{f"{stamp}__isnull": True}).values_list("pk", flat=True)
    marked = [
        pk
        for pk in list(candidates)
        if ActivationRequest.objects.filter(condition, pk=pk, **{f"{stamp}__isnull": True}).update(**{stamp: now})
    ]
    if marked:
        transaction.on_commit(partial(send, activation_request_ids=marked))
    return marked


@transaction.atomic(durable=True)
def requests_mark_overdue() -> list[int]:
    """Flag requests whose review start is past due (one business day), each once, and alert the
    moderators once per batch."""
    return _alert_once(
        condition=selectors.overdue_condition(timezone.now()),
        stamp="overdue_alerted_at",
        send=emails.overdue_requests_email_send,
    )


@transaction.atomic(durable=True)
def requests_mark_past_review_limit() -> list[int]:
    """Flag requests still waiting on the moderators two weeks after submission (pending or in review),
    each once, and alert the moderators once per batch; a flagged request is never alerted again."""
    return _alert_once(
        condition=selectors.past_review_limit_condition(timezone.now()),
        stamp="past_limit_alerted_at",
        send=emails.past_review_limit_email_send,
    )
