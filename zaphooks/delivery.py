"""Hook delivery: the relay from the lead event outbox, claims, results, retries, replay, erasure,
and the signing secrets that sign each delivery.

The flow: `leads.outbox` hands over the lead events not relayed yet; the relay (`events_relay`, or the
dispatcher's `events_relay_claim`) writes one HookEvent per event someone listens to and one Delivery
per matching subscription, in one transaction with the events marked relayed. The dispatcher
(`dispatch.py`) claims due deliveries (`deliveries_claim`), sends them and records the results
(`deliveries_record`), which schedules retries (`policy`) and applies the 410 and dead-endpoint rules.
Every function here is a write; the reads are in `selectors.py`.
"""

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from kartra_integrations.errors import ApplicationError, NotFound
from kartra_integrations.prepared import PreparedQuery, rows_insert
from leads import outbox

from . import filters, policy, signing
from .models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    HookEvent,
    SigningSecret,
    Subscription,
    SubscriptionState,
)
from .selectors import score_matcher, signing_secrets_for_accounts
from .wake import dispatcher_wake as wake_dispatcher
from .wake import dispatcher_wake_for_events

logger = logging.getLogger(__name__)

ROTATION_WINDOW = timedelta(hours=24)
LEASE = timedelta(seconds=30)
# last_error of a delivery stopped because its lead was erased (and the replay refusal's message).
LEAD_ERASED = "Lead erased: its personal data is gone, so this delivery is not sent."


# --- signing secrets -------------------------------------------------------------------------


def signing_secret_get_or_create(*, account: Account) -> str:
    """The account's current signing secret (created on first use). `create_account` prints it."""
    current = account.signing_secrets.filter(expires_at__isnull=True).order_by("-created_at").first()
    if current is not None:
        return current.secret
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        current = account.signing_secrets.filter(expires_at__isnull=True).order_by("-created_at").first()
        if current is None:
            current = SigningSecret.objects.create(
                account=account, secret=signing.new_secret(), created_at=timezone.now()
            )
    return current.secret


def signing_secrets_ensure(*, account_ids: set[int]) -> dict[int, list[str]]:
    """The secrets that sign now, per account; an account without one gets one."""
    found = signing_secrets_for_accounts(account_ids)
    for account_id in account_ids - set(found):
        found[account_id] = [signing_secret_get_or_create(account=Account.objects.get(pk=account_id))]
    return found


@transaction.atomic
def signing_secret_rotate(*, account: Account, window: timedelta = ROTATION_WINDOW) -> SigningSecret:
    """A new current secret; the old one keeps signing (alongside) until the window ends."""
    now = timezone.now()
    Account.objects.select_for_update().filter(pk=account.pk).first()
    account.signing_secrets.filter(expires_at__isnull=True).update(expires_at=now + window)
    account.signing_secrets.filter(expires_at__lte=now).delete()
    return SigningSecret.objects.create(account=account, secret=signing.new_secret(), created_at=now)


ACCESS_REVOKED = "Zapier access revoked"
NO_ACCESS_MESSAGE = (
    "Zapier access is not activated for this account, so nothing can be sent. "
    "Ask for activation on your My integrations page; once a moderator approves it you can re-enable this."
)


def zapier_access_require(*, account: Account) -> None:
    """Hooks deliver lead data: only an account with Zapier access may start one (read from the
    database, not the caller's possibly stale instance)."""
    if not Account.objects.filter(pk=account.pk, zapier_activated=True).exists():
        raise ApplicationError(NO_ACCESS_MESSAGE, code="zapier_not_activated", status_code=403)


def deliveries_cancel_open(
    *, subscription_ids: Iterable[int], reason: str, now: datetime, access_revoked: bool = False
) -> None:
    """The subscriptions' deliveries still waiting (pending) fail with `reason`; in flight ones finish."""
    extra = {"access_revoked": True} if access_revoked else {}
    Delivery.objects.filter(subscription_id__in=list(subscription_ids), state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED, last_error=reason, next_attempt_at=None, finished_at=now, **extra
    )


# --- the relay: LeadEvent outbox -> HookEvent + Delivery rows ----------------------------------


def events_relay(*, limit: int = 500, wake: bool = True, now: datetime | None = None) -> int:
    """Hand every LeadEvent not relayed yet to the subscriptions it matches; returns the events recorded.

    The outbox's own marker (LeadEvent.relayed_at, null until relayed) says what is left, not a time
    window: an event is read once it has committed, however late that is after its occurred_at and
    however long the workers were away. Batches are claimed with FOR UPDATE SKIP LOCKED, so two relays
    never take the same events; HookEvent's primary key (the event id) and Delivery's unique pair make
    a re-run harmless all the same.
    """
    recorded = 0
    while True:
        batch = _relay_batch(limit=limit, now=now or timezone.now())
        recorded += batch.recorded
        if batch.deliveries and wake:
            wake_dispatcher()
        if batch.read < limit:
            return recorded


@dataclass
class RelayBatch:
    read: int = 0  # events taken from the outbox
    recorded: int = 0  # of which someone listens to (a HookEvent each)
    deliveries: int = 0  # deliveries made
    jobs: list = field(default_factory=list)  # deliveries made already claimed (see events_relay_claim)


def events_relay_claim(
    *, limit: int, claim: int, room: dict[int, int], default_room: int, now: datetime | None = None
) -> RelayBatch:
    """The dispatcher's relay: one batch, and up to `claim` of the deliveries it makes come back as
    Jobs already claimed (state sending, leased), at most `room[sub]` per subscription, so a fresh
    event goes out without a claim round-trip. The rest wait as pending for deliveries_claim."""
    return _relay_batch(limit=limit, now=now or timezone.now(), claim=(claim, room, default_room))


# The active subscriptions of accounts with Zapier access, among these accounts.
_listening = PreparedQuery(
    lambda account_ids: Subscription.objects.filter(
        account__pk__any=account_ids, state=SubscriptionState.ACTIVE, account__zapier_activated=True
    ).only("account_id", "events", "filter_resolved", "target_url"),
    account_ids=[-424242041],
)


def _relay_batch(*, limit: int, now: datetime, claim: tuple[int, dict, int] | None = None) -> RelayBatch:
    """One transaction: up to `limit` events -> HookEvents + Deliveries, and the events marked relayed.

    Five statements whatever the batch: the events (taken and marked relayed in one), the accounts'
    active subscriptions, their leads, the lead documents (leads.outbox.event_payloads) and the
    HookEvents with the Deliveries (one bulk insert). Events nobody listens to are only marked. The
    events were locked and not relayed, so their HookEvents and Deliveries are new: plain inserts,
    which give back the ids of the claimed deliveries.
    """
    with transaction.atomic():
        events = outbox.events_take_unrelayed(limit=limit, at=now)
        if not events:
            return RelayBatch()
        result = RelayBatch(read=len(events))
        subscriptions: dict[int, list[tuple[int, list, dict, str]]] = {}
        # Only accounts with Zapier access: an event written while access is revoked (hosted forms,
        # the sequence engine) is marked relayed without a delivery, so no re-approval sends it later.
        for sub in _listening.instances(account_ids=list({event.account_id for event in events})):
            subscriptions.setdefault(sub.account_id, []).append(
                (sub.pk, sub.events, sub.filter_resolved, sub.target_url)
            )
        score_matches = score_matcher()
        wanted = []
        for event in events:
            matching = [
                (sub_id, target_url)
                for sub_id, sub_events, resolved, target_url in subscriptions.get(event.account_id, ())
                if event.action in sub_events
                and filters.filter_matches(resolved, event.details or {}, score_matches=score_matches)
            ]
            if matching:
                wanted.append((event, matching))
        if wanted:
            payloads = outbox.event_payloads([event for event, _ in wanted])
            bodies = {pk: json.dumps(payload, separators=(",", ":"), default=str) for pk, payload in payloads.items()}
            hook_events = [
                HookEvent(
                    id=event.pk,
                    account_id=event.account_id,
                    action=event.action,
                    occurred_at=event.occurred_at,
                    body=bodies[event.pk],
                )
                for event, _ in wanted
            ]
            left, room, default_room = claim or (0, {}, 0)
            room = dict(room)
            deliveries, claimed = [], []
            for event, matching in wanted:
                for sub_id, target_url in matching:
                    free = room.get(sub_id, default_room)
                    if left > 0 and free > 0:
                        left, room[sub_id] = left - 1, free - 1
                        delivery = Delivery(
                            event_id=event.pk,
                            subscription_id=sub_id,
                            state=DeliveryState.SENDING,
                            next_attempt_at=now,
                            claimed_until=now + LEASE,
                        )
                        claimed.append((delivery, event, target_url))
                    else:
                        delivery = Delivery(event_id=event.pk, subscription_id=sub_id, next_attempt_at=now)
                    deliveries.append(delivery)
            # One statement. No ignore_conflicts: the events were locked and new; the ids of the claimed
            # deliveries come back.
            rows_insert(hook_events, deliveries)
            result.recorded, result.deliveries = len(wanted), len(deliveries)
            result.jobs = [
                Job(
                    delivery.pk,
                    delivery.subscription_id,
                    event.account_id,
                    str(event.pk),
                    target_url,
                    bodies[event.pk],
                    0,
                )
                for delivery, event, target_url in claimed
            ]
    return result


def events_committed() -> None:
    """The fast path: registered with leads.outbox.on_events_committed (ZaphooksConfig.ready), so it
    runs after every transaction that writes lead events commits.

    A no-op where HOOKS_WAKE_ON_COMMIT is off (the unit tests: no worker to wake). While a dispatcher
    is known to run, the wake-up is sent without waiting for Redis's reply (wake.dispatcher_wake_for_events)."""
    if settings.HOOKS_WAKE_ON_COMMIT:
        dispatcher_wake_for_events()


# --- claiming and recording (the dispatcher calls these from its database threads) ------------


@dataclass(frozen=True)
class Job:
    delivery_id: int
    subscription_id: int
    account_id: int
    event_id: str
    target_url: str
    body: str
    attempts: int  # attempts made before this one


@dataclass
class ClaimBatch:
    jobs: list[Job]
    left: int  # due deliveries seen and left unclaimed: over `limit` or over their subscription's room


def deliveries_claim(*, limit: int, room: dict[int, int], default_room: int, now: datetime | None = None) -> ClaimBatch:
    """Claim up to `limit` due deliveries of active subscriptions, at most `room[sub]` per subscription.

    SELECT ... FOR UPDATE SKIP LOCKED then a conditional UPDATE: two dispatchers never claim the same
    row; rows over a subscription's room are left unclaimed for the next round.
    """
    now = now or timezone.now()
    full = [sub_id for sub_id, free in room.items() if free <= 0]
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .exclude(subscription_id__in=full)
            .order_by("next_attempt_at")
            .values_list("id", "subscription_id")[: limit * 2]
        )
        left = dict(room)
        chosen: list[int] = []
        for delivery_id, sub_id in rows:
            if len(chosen) >= limit:
                break
            free = left.get(sub_id, default_room)
            if free > 0:
                left[sub_id] = free - 1
                chosen.append(delivery_id)
        if not chosen:
            return ClaimBatch(jobs=[], left=len(rows))
        Delivery.objects.filter(pk__any=chosen, state=DeliveryState.PENDING).update(
            state=DeliveryState.SENDING, claimed_until=now + LEASE
        )
        # Checked at send time too: the subscription is active, the account has Zapier access, and
        # the delivery was not queued when access was revoked.
        jobs = [
            Job(delivery_id, sub_id, account_id, str(event_id), target_url, body, attempts)
            for delivery_id, sub_id, account_id, event_id, target_url, body, attempts in Delivery.objects.filter(
                pk__any=chosen,
                subscription__state=SubscriptionState.ACTIVE,
                subscription__account__zapier_activated=True,
                access_revoked=False,
                state=DeliveryState.SENDING,
                event__erased_at__isnull=True,
            ).values_list(
                "id",
                "subscription_id",
                "subscription__account_id",
                "event_id",
                "subscription__target_url",
                "event__body",
                "attempts",
            )
        ]
        unsent = set(chosen) - {job.delivery_id for job in jobs}
        if unsent:  # erased, access revoked, or the subscription stopped, between relay and claim
            stop = {"state": DeliveryState.FAILED, "claimed_until": None, "next_attempt_at": None, "finished_at": now}
            Delivery.objects.filter(pk__in=unsent, event__erased_at__isnull=False).update(
                **stop, last_error=LEAD_ERASED
            )
            revoked = Q(access_revoked=True) | Q(subscription__account__zapier_activated=False)
            Delivery.objects.filter(revoked, pk__in=unsent, state=DeliveryState.SENDING).update(
                **stop, last_error=ACCESS_REVOKED, access_revoked=True
            )
            Delivery.objects.filter(pk__in=unsent, state=DeliveryState.SENDING).update(
                **stop, last_error="subscription inactive"
            )
    return ClaimBatch(jobs=jobs, left=len(rows) - len(chosen))


@dataclass
class Result:
    job: Job
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    response_start: str = ""
    error: str = ""
    retry_after: str | None = None


def deliveries_record(*, results: list[Result], now: datetime | None = None) -> None:
    """Write the attempts, move each delivery on, and apply 410 / dead-endpoint rules, in bulk."""
    if not results:
        return
    now = now or timezone.now()
    attempts: list[DeliveryAttempt] = []
    by_outcome: dict[tuple, list[int]] = {}
    retries: list[Delivery] = []
    gone: set[int] = set()
    failed_subs: dict[int, datetime] = {}
    ok_subs: set[int] = set()
    for result in results:
        attempt = result.job.attempts + 1
        decision = policy.decide(
            status_code=result.status_code, attempt=attempt, retry_after=result.retry_after, now=now
        )
        attempts.append(
            DeliveryAttempt(
                delivery_id=result.job.delivery_id,
                attempted_at=result.attempted_at,
                status_code=result.status_code,
                duration_ms=result.duration_ms,
                response_start=result.response_start[:500],
                error=result.error[:300],
                next_attempt_at=decision.next_attempt_at,
            )
        )
        sub_id = result.job.subscription_id
        if decision.outcome == policy.Outcome.SUCCEEDED:
            ok_subs.add(sub_id)
            by_outcome.setdefault((DeliveryState.SUCCEEDED, result.status_code, ""), []).append(result.job.delivery_id)
            continue
        failed_subs.setdefault(sub_id, result.attempted_at)
        if decision.outcome == policy.Outcome.RETRY:
            retries.append(
                Delivery(
                    id=result.job.delivery_id,
                    state=DeliveryState.PENDING,
                    attempts=attempt,
                    next_attempt_at=decision.next_attempt_at,
                    claimed_until=None,
                    last_status_code=result.status_code,
                    last_error=result.error[:300],
                )
            )
            continue
        if decision.outcome == policy.Outcome.GONE:
            gone.add(sub_id)
        by_outcome.setdefault((DeliveryState.FAILED, result.status_code, result.error[:300]), []).append(
            result.job.delivery_id
        )
    with transaction.atomic():
        # A delivery can vanish while in flight (its account deleted): its result is dropped, not left
        # to fail the whole batch at commit. The lock keeps the others until the attempts are in.
        present = set(
            Delivery.objects.select_for_update()
            .filter(pk__any=[attempt.delivery_id for attempt in attempts])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # A lead erased while its request was in flight: the request cannot be recalled, but what the
        # target answered (it may echo the payload) is not kept, and the delivery is not retried. Read
        # after the lock, so an erasure that committed while we waited for it is seen.
        erased = set(
            Delivery.objects.filter(pk__any=present, event__erased_at__isnull=False).values_list("pk", flat=True)
        )
        for row in attempts:
            if row.delivery_id in erased:
                row.response_start = ""
        rows_insert([row for row in attempts if row.delivery_id in present])
        for (state, status_code, error), ids in by_outcome.items():
            Delivery.objects.filter(pk__any=ids).update(
                state=state,
                attempts=F("attempts") + 1,
                next_attempt_at=None,
                claimed_until=None,
                last_status_code=status_code,
                last_error=error,
                finished_at=now,
            )
        if retries:
            Delivery.objects.bulk_update(
                retries,
                ["state", "attempts", "next_attempt_at", "claimed_until", "last_status_code", "last_error"],
                batch_size=500,
            )
        if erased:
            Delivery.objects.filter(pk__in=erased).update(
                state=DeliveryState.FAILED, next_attempt_at=None, claimed_until=None, last_error=LEAD_ERASED
            )
        if ok_subs:
            Subscription.objects.filter(pk__any=ok_subs, first_failure_at__isnull=False).update(first_failure_at=None)
        if gone:
            # 410 Gone: that is how Zapier says the Zap is gone. Delete at once (kept as a row for the log).
            Subscription.objects.filter(pk__in=gone).exclude(state=SubscriptionState.DELETED).update(
                state=SubscriptionState.DELETED, deleted_at=now, disabled_reason="The target answered 410 Gone"
            )
            deliveries_cancel_open(subscription_ids=gone, reason="subscription gone (410)", now=now)
        failing = set(failed_subs) - ok_subs - gone
        if failing:
            _failures_note(failing, failed_subs, now)


def _failures_note(sub_ids: set[int], first_seen: dict[int, datetime], now: datetime) -> None:
    for sub_id in sub_ids:
        Subscription.objects.filter(pk=sub_id, first_failure_at__isnull=True).update(
            first_failure_at=first_seen[sub_id]
        )
    dead = list(
        Subscription.objects.filter(
            pk__in=sub_ids, state=SubscriptionState.ACTIVE, first_failure_at__lte=now - policy.DISABLE_AFTER
        ).values_list("pk", flat=True)
    )
    if not dead:
        return
    Subscription.objects.filter(pk__in=dead).update(
        state=SubscriptionState.DISABLED,
        disabled_at=now,
        disabled_reason="Every attempt failed for a day",
    )
    deliveries_cancel_open(subscription_ids=dead, reason="subscription disabled after a day of failures", now=now)
    for sub_id in dead:
        transaction.on_commit(partial(subscription_disabled_notify, subscription_id=sub_id))


def subscription_disabled_notify(*, subscription_id: int) -> None:
    subscription = Subscription.objects.select_related("account__owner").get(pk=subscription_id)
    try:
        send_mail(
            subject="A hook endpoint was disabled",
            message=(
                f"Every delivery to {subscription.target_url} has failed for a day, so we stopped sending "
                f"{', '.join(subscription.events)} events to it.\n\nFix the endpoint, then re-enable it and "
                "replay the failed deliveries from your Zaps and endpoints page."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[subscription.account.owner.email],
        )
    except Exception:
        logger.exception("could not email the owner about disabled subscription %s", subscription_id)


def deliveries_unclaim(*, delivery_ids: list[int]) -> int:
    """Claimed deliveries a stopping dispatcher did not start: due again at once, for the next one."""
    return Delivery.objects.filter(pk__any=delivery_ids, state=DeliveryState.SENDING).update(
        state=DeliveryState.PENDING, claimed_until=None
    )


def deliveries_release_expired(*, now: datetime | None = None) -> int:
    """The sweeper: claims whose lease ran out (a crashed dispatcher) become due again."""
    now = now or timezone.now()
    return Delivery.objects.filter(state=DeliveryState.SENDING, claimed_until__lt=now).update(
        state=DeliveryState.PENDING, claimed_until=None, next_attempt_at=now
    )


# --- replay ----------------------------------------------------------------------------------


@transaction.atomic
def deliveries_replay(
    *,
    account: Account,
    subscription_id: int,
    delivery_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Send again one delivery, or every failed one of the subscription created in [since, until).

    A delivery whose lead was erased is never sent again: asked for by itself, the replay is refused
    (code lead_erased); in a range, it is left out."""
    subscription = Subscription.objects.filter(account=account, pk=subscription_id).first()
    if subscription is None or subscription.state == SubscriptionState.DELETED:
        raise NotFound("No such subscription")
    zapier_access_require(account=account)
    if subscription.state != SubscriptionState.ACTIVE:
        raise ApplicationError("Re-enable the subscription before replaying.", code="subscription_disabled")
    # Deliveries queued when access was revoked stay unsent for good (see account_subscriptions_stop).
    deliveries = Delivery.objects.filter(subscription=subscription, access_revoked=False).exclude(
        state__in=[DeliveryState.PENDING, DeliveryState.SENDING]
    )
    if delivery_id is not None:
        if Delivery.objects.filter(subscription=subscription, pk=delivery_id, access_revoked=True).exists():
            raise ApplicationError(
                "This delivery was cancelled when Zapier access was revoked; it is never sent again.",
                code="access_revoked",
                status_code=409,
            )
        deliveries = deliveries.filter(pk=delivery_id)
        if deliveries.filter(event__erased_at__isnull=False).exists():
            raise ApplicationError(LEAD_ERASED, code="lead_erased")
    else:
        deliveries = deliveries.filter(state=DeliveryState.FAILED)
        if since:
            deliveries = deliveries.filter(created_at__gte=since)
        if until:
            deliveries = deliveries.filter(created_at__lt=until)
    count = deliveries.filter(event__erased_at__isnull=True).update(
        state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now(), finished_at=None, last_error=""
    )
    if count:
        transaction.on_commit(wake_dispatcher)
    return count


# --- erasure ---------------------------------------------------------------------------------


def hook_events_erase(*, event_ids: Iterable | QuerySet, now: datetime) -> int:
    """The lead of these events was erased (leads.services.data_rights.lead_erase calls this in its transaction):
    their stored bodies are emptied and marked erased, their deliveries still waiting or in flight are
    stopped, and what the targets answered (which may echo the payload) is blanked. Set-based: three
    UPDATEs whatever the number of events. Returns the events erased."""
    erased = HookEvent.objects.filter(pk__in=event_ids).update(body="", erased_at=now)
    deliveries = Delivery.objects.filter(event_id__in=event_ids)
    deliveries.filter(state__in=[DeliveryState.PENDING, DeliveryState.SENDING]).update(
        state=DeliveryState.FAILED, next_attempt_at=None, claimed_until=None, finished_at=now, last_error=LEAD_ERASED
    )
    DeliveryAttempt.objects.filter(delivery__event_id__in=event_ids).exclude(response_start="").update(
        response_start=""
    )
    return erased
