"""Reads of the hooks app: what to show, what is due, signing secrets, filters. (The lead events to
relay are read through leads.outbox.)"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Account
from kartra_integrations.errors import ApplicationError, NotFound
from leads import models as leads_models
from leads import outbox
from leads.models import LeadAction
from leads.selectors import reaches_score_matches

from . import filters
from .models import Delivery, DeliveryState, SigningSecret, Subscription, SubscriptionKind, SubscriptionState


def signing_secrets_for_accounts(account_ids: set[int], *, now: datetime | None = None) -> dict[int, list[str]]:
    """The secrets that sign now for each account, newest first (two during a rotation window)."""
    now = now or timezone.now()
    found: dict[int, list[str]] = {}
    for account_id, secret in (
        SigningSecret.objects.filter(account_id__in=account_ids)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at")
        .values_list("account_id", "secret")
    ):
        found.setdefault(account_id, []).append(secret)
    return found


def signing_secrets_current(*, account: Account) -> list[SigningSecret]:
    now = timezone.now()
    return list(
        account.signing_secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("-created_at")
    )


def subscription_list(*, account: Account, kind: str | None = SubscriptionKind.ZAPIER) -> list[Subscription]:
    """Active subscriptions (what GET /hooks lists)."""
    subscriptions = Subscription.objects.filter(account=account, state=SubscriptionState.ACTIVE)
    if kind:
        subscriptions = subscriptions.filter(kind=kind)
    return list(subscriptions.order_by("-created_at", "-id"))


def subscriptions_with_stats(*, account: Account, since: timedelta = timedelta(days=7)) -> list[Subscription]:
    """The owner's Zaps and endpoints (not deleted) with delivery counts of the last week, their last
    delivery (`last_delivery_at`, `_state`, `_status_code`: correlated subqueries of the same query),
    their events' labels (`event_labels`) and their filter with asset names (`filter_described`).

    Queries do not grow with the number of subscriptions: one for the rows, one per asset kind that
    some filter names.
    """
    start = timezone.now() - since
    recent = Q(deliveries__created_at__gte=start)
    last = Delivery.objects.filter(subscription=OuterRef("pk")).order_by("-created_at", "-id")
    # Rows that also carry what the page shows (set below), hence Any.
    subscriptions: list[Any] = list(
        Subscription.objects.filter(account=account)
        .exclude(state=SubscriptionState.DELETED)
        .annotate(
            delivered=Count("deliveries", filter=recent & Q(deliveries__state=DeliveryState.SUCCEEDED)),
            failed=Count("deliveries", filter=recent & Q(deliveries__state=DeliveryState.FAILED)),
            waiting=Count("deliveries", filter=recent & Q(deliveries__state__in=["pending", "sending"])),
            last_delivery_at=Subquery(last.annotate(at=Coalesce("finished_at", "created_at")).values("at")[:1]),
            last_delivery_state=Subquery(last.values("state")[:1]),
            last_delivery_status_code=Subquery(last.values("last_status_code")[:1]),
        )
        .order_by("kind", "-created_at")
    )
    described = filters_described(account=account, subscriptions=subscriptions)
    for subscription in subscriptions:
        finished = subscription.delivered + subscription.failed
        subscription.success_rate = round(100 * subscription.delivered / finished) if finished else None
        subscription.last_delivery_state_label = (
            DeliveryState(subscription.last_delivery_state).label if subscription.last_delivery_state else ""
        )
        subscription.event_labels = event_labels(subscription.events)
        subscription.filter_described = described[subscription.pk]
    return subscriptions


def event_labels(events: list[str]) -> list[str]:
    """The trigger's human label (the words Zapier shows), the code itself for an unknown one."""
    return [LeadAction(event).label if event in LeadAction.values else event for event in events]


@dataclass(frozen=True)
class FilterPart:
    label: str  # "Tag", "Price point", ...
    value: str  # the asset's name, or what is left of it


def _filter_key_labels() -> dict[str, str]:
    labels = {key: model._meta.verbose_name.capitalize() for key, model in filter_asset_models().items()}
    return {**labels, "class": "Class", "level": "Level", "price_point": "Price point", "score": "Score"}


def filters_described(*, account: Account, subscriptions: list[Subscription]) -> dict[int, list[FilterPart]]:
    """Each subscription's resolved filter as (label, asset name) parts, in the filter's key order.

    One query per asset kind named by any of the filters (not per subscription); every lookup is
    inside the account. An asset deleted since the Zap was turned on shows as "#id (deleted)".
    """
    wanted: dict[str, set] = {}
    for subscription in subscriptions:
        for key, value in (subscription.filter_resolved or {}).items():
            if key != "score":
                wanted.setdefault(key, set()).add(value)
    names: dict[str, dict] = {}
    models = filter_asset_models()
    for key, ids in wanted.items():
        if key in models:
            rows = models[key].objects.filter(account=account, pk__in=ids).values_list("pk", "name")
        elif key == "class":
            rows = leads_models.CalendarClass.objects.filter(calendar__account=account, pk__in=ids)
            rows = rows.values_list("pk", "name")
        elif key == "level":
            rows = leads_models.MembershipLevel.objects.filter(membership__account=account, pk__in=ids)
            rows = rows.values_list("pk", "name")
        elif key == "price_point":  # resolved to its id (price_point_id)
            rows = [
                (pk, f"{number} ({amount} {currency})")
                for pk, number, amount, currency in leads_models.PricePoint.objects.filter(
                    product__account=account, pk__in=ids
                ).values_list("pk", "number", "amount", "currency")
            ]
        else:
            rows = []
        names[key] = dict(rows)
    labels = _filter_key_labels()
    order = {key: position for position, key in enumerate(filters.KEY_EVENTS)}  # parents before their parts
    described: dict[int, list[FilterPart]] = {}
    for subscription in subscriptions:
        parts = []
        resolved = subscription.filter_resolved or {}
        for key, value in sorted(resolved.items(), key=lambda item: order.get(item[0], len(order))):
            name = str(value) if key == "score" else names.get(key, {}).get(value) or f"#{value} (deleted)"
            parts.append(FilterPart(label=labels.get(key, key), value=name))
        described[subscription.pk] = parts
    return described


def subscription_get(*, account: Account, subscription_id: int, kind: str | None = None) -> Subscription:
    subscriptions = Subscription.objects.filter(account=account, pk=subscription_id)
    if kind:
        subscriptions = subscriptions.filter(kind=kind)
    subscription = subscriptions.exclude(state=SubscriptionState.DELETED).first()
    if subscription is None:
        raise NotFound("No such subscription")
    return subscription


@dataclass(frozen=True)
class DeliveryLead:
    """The lead a delivery was about, for the log: no id when the lead no longer exists."""

    id: int | None
    email: str
    erased: bool


LEAD_GONE = DeliveryLead(id=None, email="", erased=False)


def _delivery_leads(*, account_id: int, event_ids: list) -> dict:
    """event id -> DeliveryLead, in one query; only the account's own events and leads."""
    return {
        event_id: DeliveryLead(id=lead.id, email=lead.email, erased=lead.erased)
        for event_id, lead in outbox.event_leads(account_id=account_id, event_ids=event_ids).items()
    }


def delivery_log(*, subscription: Subscription, limit: int = 100) -> list[Delivery]:
    """The latest deliveries with their attempts and `lead` (a DeliveryLead): three queries."""
    deliveries = list(
        Delivery.objects.filter(subscription=subscription)
        .select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")[:limit]
    )
    leads = _delivery_leads(account_id=subscription.account_id, event_ids=[d.event_id for d in deliveries])
    for delivery in deliveries:
        delivery.lead = leads.get(delivery.event_id, LEAD_GONE)
    return deliveries


def delivery_get(*, subscription: Subscription, delivery_id: int) -> Delivery:
    """One delivery of the subscription (so of its account), with its event and `lead`."""
    delivery = Delivery.objects.filter(subscription=subscription, pk=delivery_id).select_related("event").first()
    if delivery is None:
        raise NotFound("No such delivery")
    leads = _delivery_leads(account_id=subscription.account_id, event_ids=[delivery.event_id])
    delivery.lead = leads.get(delivery.event_id, LEAD_GONE)
    return delivery


def delivery_payload_pretty(delivery: Delivery) -> str | None:
    """The JSON body that was sent, indented for reading; None when it is no longer kept (erased).

    An erased lead's payload is not shown even if a copy of its old body is still stored.
    """
    body = delivery.event.body
    if not body or delivery.lead.erased:
        return None
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def delivery_health(*, since: timedelta = timedelta(days=1)) -> list[dict]:
    """For moderators: per account, deliveries of the last day by state, and its subscriptions by state."""
    start = timezone.now() - since
    rows = (
        Delivery.objects.filter(created_at__gte=start)
        .values("subscription__account_id", "subscription__account__name")
        .annotate(
            succeeded=Count("id", filter=Q(state=DeliveryState.SUCCEEDED)),
            failed=Count("id", filter=Q(state=DeliveryState.FAILED)),
            waiting=Count("id", filter=Q(state__in=[DeliveryState.PENDING, DeliveryState.SENDING])),
            total=Count("id"),
        )
        .order_by("-failed", "-total")
    )
    disabled = dict(
        Subscription.objects.filter(state=SubscriptionState.DISABLED)
        .values_list("account_id")
        .annotate(n=Count("id"))
        .values_list("account_id", "n")
    )
    return [
        {
            "account_id": row["subscription__account_id"],
            "account_name": row["subscription__account__name"],
            "succeeded": row["succeeded"],
            "failed": row["failed"],
            "waiting": row["waiting"],
            "total": row["total"],
            "success_rate": round(100 * row["succeeded"] / row["total"]) if row["total"] else None,
            "disabled_subscriptions": disabled.get(row["subscription__account_id"], 0),
        }
        for row in rows
    ]


def due_deliveries_exist(*, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now).exists()


def next_due_at() -> datetime | None:
    row = (
        Delivery.objects.filter(state=DeliveryState.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return row


# --- leads: filters and samples -------------------------------------------------------------


def filter_for_event(*, account: Account, event: str, raw: dict, resolve=None) -> dict:
    """A filter checked against the event and resolved to asset ids; a 400 with field errors otherwise."""
    problems = filters.filter_problems(event, raw)
    if problems:
        messages = [f"{key}: {message}" for key, found in problems.items() for message in found]
        raise ApplicationError("Invalid input", code="invalid", fields={"filter": messages})
    try:
        return filters.filter_resolve(event, raw, resolve or asset_resolver(account))
    except NotFound as exc:
        raise ApplicationError("Invalid input", code="invalid", fields={"filter": [exc.message]}) from exc


def score_matcher() -> Callable[[dict, int], bool]:
    return reaches_score_matches


def filter_asset_models() -> dict:
    """Filter key -> the account's asset model it names (the other keys name a part of one)."""
    from leads.models import ASSET_KINDS

    return {kind.key: kind.model for kind in ASSET_KINDS if kind.filterable}


def asset_resolver(account: Account) -> Callable[[str, str, int | None], int]:
    """resolve(key, ref, parent_id) -> the id matched in action_details; NotFound for an unknown asset."""
    from leads import models as leads_models
    from leads import selectors as leads_selectors

    top = filter_asset_models()

    def resolve(key: str, ref: str, parent_id: int | None) -> int:
        if key in top:
            return leads_selectors.asset_resolve(account=account, model=top[key], ref=ref).pk
        if key == "class" and parent_id is not None:
            calendar = leads_models.Calendar.objects.get(account=account, pk=parent_id)
            return leads_selectors.calendar_class_resolve(calendar=calendar, ref=ref).pk
        if key == "level" and parent_id is not None:
            membership = leads_models.Membership.objects.get(account=account, pk=parent_id)
            return leads_selectors.membership_level_resolve(membership=membership, ref=ref).pk
        if key == "price_point":
            return leads_selectors.price_point_get(account=account, id=ref, product_id=parent_id).pk
        raise NotFound(f"Unknown filter {key}")

    return resolve
