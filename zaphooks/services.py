"""Every write of the hooks app: subscriptions, secrets, the relay, claims, results, replay."""

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from kartra_integrations.errors import ApplicationError, NotFound

from . import filters, policy, signing, targets
from .models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    HookEvent,
    SigningSecret,
    Subscription,
    SubscriptionKind,
    SubscriptionState,
)
from .wake import dispatcher_wake as wake_dispatcher

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
    from .selectors import signing_secrets_for_accounts

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


# --- subscriptions ---------------------------------------------------------------------------


ACCESS_REVOKED = "Zapier access revoked"
NO_ACCESS_MESSAGE = (
    "Zapier access is not activated for this account, so nothing can be sent. "
    "Ask for activation on your My integrations page; once a moderator approves it you can re-enable this."
)


def _require_access(account: Account) -> None:
    """Hooks deliver lead data: only an account with Zapier access may start one (read from the
    database, not the caller's possibly stale instance)."""
    if not Account.objects.filter(pk=account.pk, zapier_activated=True).exists():
        raise ApplicationError(NO_ACCESS_MESSAGE, code="zapier_not_activated", status_code=403)


def _target_check(target_url: str) -> None:
    problem = targets.target_url_problem(target_url)
    if problem:
        raise ApplicationError("Invalid input", code="invalid", fields={"target_url": [problem]})


def subscription_create(
    *, account: Account, event: str, target_url: str, filter: dict | None = None, resolve=None
) -> Subscription:
    """A Zap's REST-hook subscription. `resolve(key, ref, parent_id)` maps a filter reference to an id."""
    from .selectors import filter_for_event

    filter = filter or {}
    if event not in filters.EVENTS:
        raise ApplicationError("Invalid input", code="invalid", fields={"event": [f"Unknown event {event!r}."]})
    resolved = filter_for_event(account=account, event=event, raw=filter, resolve=resolve)
    _target_check(target_url)
    _require_access(account)
    signing_secret_get_or_create(account=account)
    return Subscription.objects.create(
        account=account,
        kind=SubscriptionKind.ZAPIER,
        events=[event],
        target_url=target_url,
        filter=filter,
        filter_resolved=resolved,
    )


def _endpoint_check(*, target_url: str, events: list[str]) -> list[str]:
    """An endpoint's URL and ticked events, as create and update take them; the events without repeats."""
    unknown = [event for event in events if event not in filters.EVENTS]
    if not events or unknown:
        raise ApplicationError("Invalid input", code="invalid", fields={"events": ["Tick one or more known events."]})
    _target_check(target_url)
    return list(dict.fromkeys(events))


def endpoint_create(*, account: Account, target_url: str, events: list[str]) -> Subscription:
    """An owner's own outbound endpoint: every event ticked in `events`, no filter. Needs Zapier access."""
    events = _endpoint_check(target_url=target_url, events=events)
    _require_access(account)
    signing_secret_get_or_create(account=account)
    return Subscription.objects.create(
        account=account, kind=SubscriptionKind.ENDPOINT, events=events, target_url=target_url
    )


def endpoint_update(*, account: Account, subscription_id: int, target_url: str, events: list[str]) -> Subscription:
    """Change an owner's endpoint's URL and ticked events; its state and delivery log stay.

    Only endpoints: a Zap's subscription belongs to Zapier, which deletes and re-creates it. Checked
    before the row is locked, since the SSRF check resolves the host name. Deliveries already made
    go to the new URL on their next attempt; a new URL starts a fresh failure run, so the day of
    failures that disables an endpoint counts from its own first failure.
    """
    events = _endpoint_check(target_url=target_url, events=events)
    with transaction.atomic(durable=True):
        endpoint = _endpoint_locked(account=account, subscription_id=subscription_id)
        if endpoint.target_url != target_url:
            endpoint.first_failure_at = None
        endpoint.target_url, endpoint.events = target_url, events
        endpoint.save(update_fields=["target_url", "events", "first_failure_at"])
    return endpoint


@transaction.atomic(durable=True)
def endpoint_delete(*, account: Account, subscription_id: int) -> None:
    """The owner deletes one of their endpoints (a Zap is deleted by Zapier, through the API)."""
    _endpoint_locked(account=account, subscription_id=subscription_id)
    subscription_delete(account=account, subscription_id=subscription_id)


def _endpoint_locked(*, account: Account, subscription_id: int) -> Subscription:
    endpoint = (
        Subscription.objects.select_for_update()
        .filter(account=account, pk=subscription_id, kind=SubscriptionKind.ENDPOINT)
        .exclude(state=SubscriptionState.DELETED)
        .first()
    )
    if endpoint is None:
        raise NotFound("No such endpoint")
    return endpoint


def _cancel_open_deliveries(
    subscription_ids: Iterable[int], reason: str, now: datetime, *, access_revoked: bool = False
) -> None:
    extra = {"access_revoked": True} if access_revoked else {}
    Delivery.objects.filter(subscription_id__in=list(subscription_ids), state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED, last_error=reason, next_attempt_at=None, finished_at=now, **extra
    )


@transaction.atomic
def subscription_delete(*, account: Account, subscription_id: int) -> None:
    """Idempotent: an unknown, already deleted or other account's id changes nothing."""
    now = timezone.now()
    changed = (
        Subscription.objects.filter(account=account, pk=subscription_id)
        .exclude(state=SubscriptionState.DELETED)
        .update(state=SubscriptionState.DELETED, deleted_at=now)
    )
    if changed:
        _cancel_open_deliveries([subscription_id], "subscription deleted", now)


@transaction.atomic
def subscription_enable(*, account: Account, subscription_id: int) -> Subscription:
    """Re-enable a disabled Zap or endpoint. Refused while the account has no Zapier access: after a
    revocation, a moderator's re-approval is the only way back. The account row is locked first, in
    the order the revoke service takes them, so an enable racing a revocation sees its outcome."""
    if not Account.objects.select_for_update().filter(pk=account.pk, zapier_activated=True).exists():
        if (
            not Subscription.objects.filter(account=account, pk=subscription_id)
            .exclude(state=SubscriptionState.DELETED)
            .exists()
        ):
            raise NotFound("No such subscription")
        raise ApplicationError(NO_ACCESS_MESSAGE, code="zapier_not_activated", status_code=403)
    subscription = Subscription.objects.select_for_update().filter(account=account, pk=subscription_id).first()
    if subscription is None or subscription.state == SubscriptionState.DELETED:
        raise NotFound("No such subscription")
    subscription.state = SubscriptionState.ACTIVE
    subscription.disabled_at = None
    subscription.disabled_reason = ""
    subscription.first_failure_at = None
    subscription.save(update_fields=["state", "disabled_at", "disabled_reason", "first_failure_at"])
    return subscription


@transaction.atomic
def subscription_disable(*, account: Account, subscription_id: int, reason: str = "Disabled by the owner") -> None:
    now = timezone.now()
    if Subscription.objects.filter(account=account, pk=subscription_id, state=SubscriptionState.ACTIVE).update(
        state=SubscriptionState.DISABLED, disabled_at=now, disabled_reason=reason
    ):
        _cancel_open_deliveries([subscription_id], reason, now)


@transaction.atomic
def account_subscriptions_stop(*, account: Account) -> int:
    """Zapier access revoked: stop every active subscription at once and tell Zapier (DELETE target_url).

    Called by the revoke service in approvals, in its transaction; the DELETEs go out after commit.
    Every delivery still queued (pending, or in flight) is marked `access_revoked`: it is never sent
    again nor replayable, even after a re-approval. The relay and the claim check the account's access
    themselves, so events written while access is revoked are never delivered either.
    """
    from .tasks import zapier_unsubscribe_notify

    now = timezone.now()
    stopped = list(
        Subscription.objects.select_for_update()
        .filter(account=account, state=SubscriptionState.ACTIVE)
        .values_list("id", "kind")
    )
    ids = [pk for pk, _ in stopped]
    Subscription.objects.filter(pk__in=ids).update(
        state=SubscriptionState.DISABLED, disabled_at=now, disabled_reason="Zapier access revoked"
    )
    _cancel_open_deliveries(ids, ACCESS_REVOKED, now, access_revoked=True)
    # In flight now: sent already, perhaps; their retries are refused at claim time (access_revoked).
    Delivery.objects.filter(subscription__account=account, state=DeliveryState.SENDING).update(access_revoked=True)
    for pk, kind in stopped:
        if kind == SubscriptionKind.ZAPIER:
            transaction.on_commit(lambda pk=pk: _enqueue(zapier_unsubscribe_notify, pk))
    return len(ids)


def _enqueue(task, *args) -> None:
    try:
        task.apply_async(args=args, retry=False)
    except Exception:  # the broker is down: the work is in the database, the sweeper finds it
        logger.warning("could not enqueue %s", task.name, exc_info=True)


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


def _relay_batch(*, limit: int, now: datetime, claim: tuple[int, dict, int] | None = None) -> RelayBatch:
    """One transaction: up to `limit` events -> HookEvents + Deliveries, and the events marked relayed.

    Seven queries whatever the batch: the events, the accounts' active subscriptions, their leads,
    the lead documents (leads.selectors.lead_details_many), two bulk inserts and one update. Events
    nobody listens to are only marked. The events are locked and not relayed, so their HookEvents
    and Deliveries are new: plain inserts, which give back the ids of the claimed deliveries.
    """
    from leads.selectors import lead_details_many
    from leads.services import lead_events_relayed_mark

    from .selectors import event_payload_with, lead_events_unrelayed, leads_by_id, score_matcher

    with transaction.atomic():
        events = lead_events_unrelayed(limit=limit)
        if not events:
            return RelayBatch()
        result = RelayBatch(read=len(events))
        subscriptions: dict[int, list[tuple[int, list, dict, str]]] = {}
        # Only accounts with Zapier access: an event written while access is revoked (hosted forms,
        # the sequence engine) is marked relayed without a delivery, so no re-approval sends it later.
        for sub_id, account_id, sub_events, resolved, target_url in Subscription.objects.filter(
            account_id__in={event.account_id for event in events},
            state=SubscriptionState.ACTIVE,
            account__zapier_activated=True,
        ).values_list("id", "account_id", "events", "filter_resolved", "target_url"):
            subscriptions.setdefault(account_id, []).append((sub_id, sub_events, resolved, target_url))
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
            leads = leads_by_id({event.lead_id for event, _ in wanted})
            documents = lead_details_many(list(leads.values()))
            bodies = {
                event.pk: json.dumps(
                    event_payload_with(event, documents[event.lead_id]), separators=(",", ":"), default=str
                )
                for event, _ in wanted
            }
            _rows_insert(
                [
                    HookEvent(
                        id=event.pk,
                        account_id=event.account_id,
                        action=event.action,
                        occurred_at=event.occurred_at,
                        body=bodies[event.pk],
                    )
                    for event, _ in wanted
                ]
            )
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
            # No ignore_conflicts: the events are locked and new, and the ids of the claimed come back.
            _rows_insert(deliveries)
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
        lead_events_relayed_mark(event_ids=[event.pk for event in events], at=now)
    return result


def _rows_insert(rows: list) -> None:
    """bulk_create of HookEvents, Deliveries or attempts (primary keys set on the rows); on PostgreSQL one
    INSERT ... SELECT FROM unnest() bound server-side. Django binds client-side there, quoting every
    value in Python: the relay's two inserts (500 bodies of ~800 bytes, 1,000 deliveries) were 14 %
    of the dispatcher's CPU."""
    import psycopg
    from django.db import connection
    from django.db.models import AutoField, BigAutoField

    if not rows:
        return
    model = type(rows[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows, batch_size=1000)
        return
    meta = model._meta
    generated = isinstance(meta.pk, AutoField | BigAutoField)
    fields = [f for f in meta.concrete_fields if not (generated and f.primary_key)]
    # Plain values (uuid, int, str, aware datetime: what these two models hold) dumped in binary
    # (%b): text-format arrays escape every quote of every body with a regex.
    columns = [[f.pre_save(row, True) for row in rows] for f in fields]
    # Identifiers and types come from the model's meta, values are bound parameters.
    sql = (
        f"INSERT INTO {meta.db_table} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) "  # noqa: S608
        f"SELECT * FROM unnest({', '.join(f'%b::{f.cast_db_type(connection)}[]' for f in fields)})"
    )
    if generated:
        sql += f" RETURNING {connection.ops.quote_name(meta.pk.column)}"
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, columns)
        if generated:
            for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
                row.pk = pk


def events_committed() -> None:
    """The fast path: leads calls `transaction.on_commit(events_committed)` after writing events.

    A no-op where HOOKS_WAKE_ON_COMMIT is off (the unit tests: no worker to wake)."""
    if settings.HOOKS_WAKE_ON_COMMIT:
        wake_dispatcher()


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
        Delivery.objects.filter(pk__in=chosen, state=DeliveryState.PENDING).update(
            state=DeliveryState.SENDING, claimed_until=now + LEASE
        )
        # Checked at send time too: the subscription is active, the account has Zapier access, and
        # the delivery was not queued when access was revoked.
        jobs = [
            Job(*row)
            for row in Delivery.objects.filter(
                pk__in=chosen,
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
            .filter(pk__in=[attempt.delivery_id for attempt in attempts])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # A lead erased while its request was in flight: the request cannot be recalled, but what the
        # target answered (it may echo the payload) is not kept, and the delivery is not retried. Read
        # after the lock, so an erasure that committed while we waited for it is seen.
        erased = set(
            Delivery.objects.filter(pk__in=present, event__erased_at__isnull=False).values_list("pk", flat=True)
        )
        for attempt in attempts:
            if attempt.delivery_id in erased:
                attempt.response_start = ""
        _rows_insert([attempt for attempt in attempts if attempt.delivery_id in present])
        for (state, status_code, error), ids in by_outcome.items():
            Delivery.objects.filter(pk__in=ids).update(
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
            Subscription.objects.filter(pk__in=ok_subs, first_failure_at__isnull=False).update(first_failure_at=None)
        if gone:
            # 410 Gone: that is how Zapier says the Zap is gone. Delete at once (kept as a row for the log).
            Subscription.objects.filter(pk__in=gone).exclude(state=SubscriptionState.DELETED).update(
                state=SubscriptionState.DELETED, deleted_at=now, disabled_reason="The target answered 410 Gone"
            )
            _cancel_open_deliveries(gone, "subscription gone (410)", now)
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
    _cancel_open_deliveries(dead, "subscription disabled after a day of failures", now)
    for sub_id in dead:
        transaction.on_commit(lambda sub_id=sub_id: subscription_disabled_notify(subscription_id=sub_id))


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
    _require_access(account)
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
