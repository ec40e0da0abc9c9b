"""Celery tasks: the dispatcher, the sweeper, and telling Zapier a subscription stopped."""

import asyncio
import logging

import aiohttp
from celery import shared_task
from django.utils import timezone

from . import delivery, selectors, targets, wake
from .dispatch import Dispatcher  # also connects its worker signals, in the main process and the pool's
from .models import Subscription, SubscriptionKind

logger = logging.getLogger(__name__)


@shared_task(name=wake.HOOKS_DISPATCH_TASK, acks_late=False)
def hooks_dispatch() -> int:
    """Run a dispatcher until it has been idle a while (a no-op when every dispatcher slot is taken)."""
    wake.dispatcher_starting()
    return Dispatcher().run().sent


@shared_task(name="zaphooks.hooks_sweep")
def hooks_sweep() -> None:
    """Every few seconds: free expired claims; while no dispatcher runs, relay missed events and start
    one for due work.

    A running dispatcher relays and claims by itself (it looks at the outbox every second); relaying
    here as well only raced it for the same batches on the same cores, and during a burst a sweep
    that outlasted the beat's 5 s ran beside the next one.
    """
    delivery.deliveries_release_expired()
    if wake.dispatcher_running():
        return
    delivery.events_relay(wake=False)
    if selectors.due_deliveries_exist():
        hooks_dispatch.apply_async(retry=False)


@shared_task(
    name="zaphooks.zapier_unsubscribe_notify",
    autoretry_for=(aiohttp.ClientError, TimeoutError),
    retry_backoff=30,
    max_retries=5,
)
def zapier_unsubscribe_notify(subscription_id: int) -> int | None:
    """DELETE <target_url>: how we tell Zapier a subscription has stopped (it pauses the Zap)."""
    subscription = Subscription.objects.filter(pk=subscription_id, kind=SubscriptionKind.ZAPIER).first()
    if subscription is None or subscription.state == "active":
        return None

    async def delete() -> int:
        async with (
            targets.guarded_session() as session,
            session.delete(subscription.target_url, allow_redirects=False) as response,
        ):
            return response.status

    status = asyncio.run(delete())
    logger.info("told %s the subscription stopped at %s: %s", subscription.target_url, timezone.now(), status)
    return status
