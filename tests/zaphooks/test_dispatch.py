"""The dispatcher's steps on PostgreSQL, with an httpx.MockTransport in place of the network: what it
sends, how it signs, what it records and schedules, and what it never sends."""

import asyncio
import json
from collections import Counter
from datetime import timedelta

import httpx
import pytest
import standardwebhooks
from django.utils import timezone

from leads.services import lead_tag_assign
from tests.leads.factories import LeadFactory, TagFactory
from zaphooks import delivery
from zaphooks.dispatch import Dispatcher
from zaphooks.models import Delivery, DeliveryAttempt, DeliveryState, HookEvent, SubscriptionState

from .factories import DeliveryFactory, SubscriptionFactory


def _dispatch(slots, handler, **options):
    """Run a dispatcher until it is idle (at most about a second), every request answered by `handler`."""
    # No grace after the slot's release: nothing here commits with the wake-up on (test_wake_on_commit
    # tests the grace).
    options = {"idle_seconds": 0, "max_seconds": 1, "grace_seconds": 0, **options}
    dispatcher = Dispatcher(transport_factory=lambda **limits: httpx.MockTransport(handler), **options)
    return dispatcher.run(lock=slots[0])


def _answer(status_code, headers=None):
    requests = []

    def handler(request):
        requests.append(request)
        return httpx.Response(status_code, headers=headers, text="ok" if status_code < 300 else "no")

    handler.requests = requests
    return handler


def test_an_event_is_relayed_sent_signed_and_recorded(slots, account):
    subscription = SubscriptionFactory(account=account, events=["assign_tag"])
    lead = LeadFactory(account=account)
    lead_tag_assign(lead=lead, tag=TagFactory(account=account, name="VIP"))
    handler = _answer(200)
    stats = _dispatch(slots, handler)
    assert (stats.relayed, stats.sent) == (1, 1)
    [request] = handler.requests
    assert str(request.url) == subscription.target_url
    hook_event = HookEvent.objects.get()
    assert request.content.decode() == hook_event.body
    assert json.loads(hook_event.body)["lead"]["email"] == lead.email
    sent = Delivery.objects.get()
    assert (sent.state, sent.attempts, sent.last_status_code) == (DeliveryState.SUCCEEDED, 1, 200)
    assert DeliveryAttempt.objects.get(delivery=sent).status_code == 200


def test_each_request_carries_standard_webhooks_headers_the_receiver_can_verify(slots, account):
    SubscriptionFactory(account=account, events=["assign_tag"])
    lead_tag_assign(lead=LeadFactory(account=account), tag=TagFactory(account=account))
    handler = _answer(200)
    _dispatch(slots, handler)
    [request] = handler.requests
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(request.headers)
    assert request.headers["webhook-id"] == str(HookEvent.objects.get().pk)
    secret = delivery.signing_secret_get_or_create(account=account)
    payload = standardwebhooks.Webhook(secret).verify(request.content, request.headers)
    assert payload["action"] == "assign_tag"
    tampered = {**request.headers, "webhook-signature": "v1," + "A" * 44}
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(request.content, tampered)


@pytest.mark.parametrize(
    ("attempts_before", "low", "high"),
    [(0, 4.0, 6.5), (1, 24.0, 36.5), (2, 144.0, 216.5)],
)
def test_a_5xx_schedules_the_next_attempt_by_the_backoff(slots, attempts_before, low, high):
    waiting = DeliveryFactory(attempts=attempts_before)
    _dispatch(slots, _answer(503))
    waiting.refresh_from_db()
    attempt = DeliveryAttempt.objects.get(delivery=waiting)
    assert (waiting.state, waiting.attempts, waiting.last_status_code) == (
        DeliveryState.PENDING,
        attempts_before + 1,
        503,
    )
    assert low <= (waiting.next_attempt_at - attempt.attempted_at).total_seconds() <= high
    assert attempt.next_attempt_at == waiting.next_attempt_at


def test_the_ninth_failed_attempt_fails_the_delivery(slots):
    last = DeliveryFactory(attempts=8)
    _dispatch(slots, _answer(500))
    last.refresh_from_db()
    assert (last.state, last.attempts, last.next_attempt_at) == (DeliveryState.FAILED, 9, None)


def test_a_timeout_is_recorded_and_retried(slots):
    waiting = DeliveryFactory()

    def handler(request):
        raise httpx.ReadTimeout("no answer", request=request)

    _dispatch(slots, handler)
    waiting.refresh_from_db()
    attempt = DeliveryAttempt.objects.get(delivery=waiting)
    assert (attempt.status_code, attempt.error) == (None, "timed out (ReadTimeout)")
    assert (waiting.state, waiting.attempts) == (DeliveryState.PENDING, 1)
    assert 4.0 <= (waiting.next_attempt_at - attempt.attempted_at).total_seconds() <= 6.5


def test_a_429_is_retried_after_the_receivers_retry_after(slots):
    waiting = DeliveryFactory()
    _dispatch(slots, _answer(429, headers={"Retry-After": "120"}))
    waiting.refresh_from_db()
    attempt = DeliveryAttempt.objects.get(delivery=waiting)
    assert (waiting.state, waiting.last_status_code) == (DeliveryState.PENDING, 429)
    assert 119.0 <= (waiting.next_attempt_at - attempt.attempted_at).total_seconds() <= 121.0


def test_a_410_deletes_the_subscription_and_cancels_what_it_still_had_queued(slots):
    now_due = DeliveryFactory()
    later = DeliveryFactory(subscription=now_due.subscription, next_attempt_at=timezone.now() + timedelta(hours=1))
    handler = _answer(410)
    _dispatch(slots, handler)
    assert len(handler.requests) == 1
    now_due.refresh_from_db()
    later.refresh_from_db()
    now_due.subscription.refresh_from_db()
    assert now_due.subscription.state == SubscriptionState.DELETED
    assert (now_due.state, now_due.last_status_code) == (DeliveryState.FAILED, 410)
    assert (later.state, later.last_error) == (DeliveryState.FAILED, "subscription gone (410)")


def test_requests_to_one_target_never_exceed_the_per_target_cap(slots):
    slow = DeliveryFactory()
    for _ in range(5):
        DeliveryFactory(subscription=slow.subscription)
    other = DeliveryFactory()
    now, most = Counter(), Counter()

    async def handler(request):
        url = str(request.url)
        now[url] += 1
        most[url] = max(most[url], now[url])
        await asyncio.sleep(0.05)
        now[url] -= 1
        return httpx.Response(200)

    _dispatch(slots, handler, per_target=2)
    assert most[slow.subscription.target_url] == 2
    assert most[other.subscription.target_url] == 1
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}


def test_a_delivery_of_an_erased_lead_is_not_sent(slots):
    erased = DeliveryFactory(event__body="", event__erased_at=timezone.now())
    handler = _answer(200)
    _dispatch(slots, handler)
    erased.refresh_from_db()
    assert handler.requests == []
    assert (erased.state, erased.last_error) == (DeliveryState.FAILED, delivery.LEAD_ERASED)


def test_deliveries_of_an_account_whose_access_was_revoked_are_not_sent(slots):
    queued = DeliveryFactory()
    marked = DeliveryFactory(access_revoked=True)
    type(queued.subscription.account).objects.filter(pk=queued.subscription.account_id).update(zapier_activated=False)
    handler = _answer(200)
    _dispatch(slots, handler)
    assert handler.requests == []
    for row in (queued, marked):
        row.refresh_from_db()
        assert (row.state, row.last_error) == (DeliveryState.FAILED, delivery.ACCESS_REVOKED)
