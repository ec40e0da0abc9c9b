"""Subscriptions: a Zap's REST hooks and an owner's own endpoints; creating, changing, stopping them.

Delivering to them (the relay, claims, retries, replay) and the signing secrets are in `delivery.py`.
"""

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from kartra_integrations.errors import ApplicationError, NotFound

from . import filters, targets
from .delivery import (
    ACCESS_REVOKED,
    NO_ACCESS_MESSAGE,
    deliveries_cancel_open,
    signing_secret_get_or_create,
    zapier_access_require,
)
from .models import Delivery, DeliveryState, Subscription, SubscriptionKind, SubscriptionState
from .selectors import filter_for_event
from .tasks import zapier_unsubscribe_notify

logger = logging.getLogger(__name__)


def _target_check(target_url: str) -> None:
    problem = targets.target_url_problem(target_url)
    if problem:
        raise ApplicationError("Invalid input", code="invalid", fields={"target_url": [problem]})


def subscription_create(
    *, account: Account, event: str, target_url: str, filter: dict | None = None, resolve=None
) -> Subscription:
    """A Zap's REST-hook subscription. `resolve(key, ref, parent_id)` maps a filter reference to an id."""
    filter = filter or {}
    if event not in filters.EVENTS:
        raise ApplicationError("Invalid input", code="invalid", fields={"event": [f"Unknown event {event!r}."]})
    resolved = filter_for_event(account=account, event=event, raw=filter, resolve=resolve)
    _target_check(target_url)
    zapier_access_require(account=account)
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
    zapier_access_require(account=account)
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
        deliveries_cancel_open(subscription_ids=[subscription_id], reason="subscription deleted", now=now)


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
        deliveries_cancel_open(subscription_ids=[subscription_id], reason=reason, now=now)


@transaction.atomic
def account_subscriptions_stop(*, account: Account) -> int:
    """Zapier access revoked: stop every active subscription at once and tell Zapier (DELETE target_url).

    Called by the revoke service in approvals, in its transaction; the DELETEs go out after commit.
    Every delivery still queued (pending, or in flight) is marked `access_revoked`: it is never sent
    again nor replayable, even after a re-approval. The relay and the claim check the account's access
    themselves, so events written while access is revoked are never delivered either.
    """
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
    deliveries_cancel_open(subscription_ids=ids, reason=ACCESS_REVOKED, now=now, access_revoked=True)
    # In flight now: sent already, perhaps; their retries are refused at claim time (access_revoked).
    Delivery.objects.filter(subscription__account=account, state=DeliveryState.SENDING).update(access_revoked=True)
    for pk, kind in stopped:
        if kind == SubscriptionKind.ZAPIER:
            transaction.on_commit(partial(_enqueue, zapier_unsubscribe_notify, pk))
    return len(ids)


def _enqueue(task, *args) -> None:
    try:
        task.apply_async(args=args, retry=False)
    except Exception:  # the broker is down: the work is in the database, the sweeper finds it
        logger.warning("could not enqueue %s", task.name, exc_info=True)
