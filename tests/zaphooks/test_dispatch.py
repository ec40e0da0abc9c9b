"""The dispatcher's steps on PostgreSQL, posting with its real client to a real HTTP receiver on
loopback (tests/zaphooks/receiver.py: the path says how it answers): what it sends, how it signs,
what it records and schedules, what it never sends, and where it refuses to connect."""

import json
import threading
from datetime import timedelta

import aiohttp
import pytest
import standardwebhooks
from django.utils import timezone

from leads.services import lead_tag_assign
from tests.leads.factories import LeadFactory, TagFactory
from zaphooks import delivery, dispatch, targets
from zaphooks.dispatch import Dispatcher
from zaphooks.models import Delivery, DeliveryAttempt, DeliveryState, HookEvent, SubscriptionState

from .factories import DeliveryFactory, SubscriptionFactory


def _dispatch(slots, **options):
    """Run a dispatcher until it is idle (at most about a second)."""
    # No grace after the slot's release: nothing here commits with the wake-up on (test_wake_on_commit
    # tests the grace).
    options = {"idle_seconds": 0, "max_seconds": 1, "grace_seconds": 0, **options}
    return Dispatcher(**options).run(lock=slots[0])


def _due(receiver, path, **kwargs):
    """A delivery due now to the receiver's `path`."""
    return DeliveryFactory(subscription__target_url=receiver.url(path), **kwargs)


def test_an_event_is_relayed_sent_signed_and_recorded(slots, account, receiver):
    SubscriptionFactory(account=account, events=["assign_tag"], target_url=receiver.url("/ok/relayed"))
    lead = LeadFactory(account=account)
    lead_tag_assign(lead=lead, tag=TagFactory(account=account, name="VIP"))
    stats = _dispatch(slots)
    assert (stats.relayed, stats.sent) == (1, 1)
    [request] = receiver.to("/ok/relayed")
    hook_event = HookEvent.objects.get()
    assert request.body == hook_event.body
    assert json.loads(hook_event.body)["lead"]["email"] == lead.email
    sent = Delivery.objects.get()
    assert (sent.state, sent.attempts, sent.last_status_code) == (DeliveryState.SUCCEEDED, 1, 200)
    assert DeliveryAttempt.objects.get(delivery=sent).status_code == 200


def test_each_request_carries_standard_webhooks_headers_the_receiver_can_verify(slots, account, receiver):
    SubscriptionFactory(account=account, events=["assign_tag"], target_url=receiver.url("/ok/signed"))
    lead_tag_assign(lead=LeadFactory(account=account), tag=TagFactory(account=account))
    _dispatch(slots)
    [request] = receiver.to("/ok/signed")
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(request.headers)
    assert request.headers["webhook-id"] == str(HookEvent.objects.get().pk)
    assert "cookie" not in request.headers
    secret = delivery.signing_secret_get_or_create(account=account)
    payload = standardwebhooks.Webhook(secret).verify(request.body, request.headers)
    assert payload["action"] == "assign_tag"
    tampered = {**request.headers, "webhook-signature": "v1," + "A" * 44}
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(request.body, tampered)


@pytest.mark.parametrize(
    ("attempts_before", "low", "high"),
    [(0, 4.0, 6.5), (1, 24.0, 36.5), (2, 144.0, 216.5)],
)
def test_a_5xx_schedules_the_next_attempt_by_the_backoff(slots, receiver, attempts_before, low, high):
    waiting = _due(receiver, "/status/503/", attempts=attempts_before)
    _dispatch(slots)
    waiting.refresh_from_db()
    attempt = DeliveryAttempt.objects.get(delivery=waiting)
    assert (waiting.state, waiting.attempts, waiting.last_status_code) == (
        DeliveryState.PENDING,
        attempts_before + 1,
        503,
    )
    assert low <= (waiting.next_attempt_at - attempt.attempted_at).total_seconds() <= high
    assert attempt.next_attempt_at == waiting.next_attempt_at
    assert attempt.response_start == '{"error":"status 503"}'


def test_the_ninth_failed_attempt_fails_the_delivery(slots, receiver):
    last = _due(receiver, "/status/500/", attempts=8)
    _dispatch(slots)
    last.refresh_from_db()
    assert (last.state, last.attempts, last.next_attempt_at) == (DeliveryState.FAILED, 9, None)


def test_a_timeout_is_recorded_and_retried(slots, receiver, monkeypatch):
    monkeypatch.setattr(targets, "TIMEOUT", aiohttp.ClientTimeout(total=0.2, sock_connect=3))
    waiting = _due(receiver, "/slow/1/")
    _dispatch(slots)
    waiting.refresh_from_db()
    attempt = DeliveryAttempt.objects.get(delivery=waiting)
    assert (attempt.status_code, attempt.error) == (None, "timed out after 0.2 s")
    assert (waiting.state, waiting.attempts) == (DeliveryState.PENDING, 1)
    assert 4.0 <= (waiting.next_attempt_at - attempt.attempted_at).total_seconds() <= 6.5


def test_a_429_is_retried_after_the_receivers_retry_after(slots, receiver):
    waiting = _due(receiver, "/retry-after/120/")
    _dispatch(slots)
    waiting.refresh_from_db()
    attempt = DeliveryAttempt.objects.get(delivery=waiting)
    assert (waiting.state, waiting.last_status_code) == (DeliveryState.PENDING, 429)
    assert 119.0 <= (waiting.next_attempt_at - attempt.attempted_at).total_seconds() <= 121.0


def test_a_410_deletes_the_subscription_and_cancels_what_it_still_had_queued(slots, receiver):
    now_due = _due(receiver, "/status/410/")
    later = DeliveryFactory(subscription=now_due.subscription, next_attempt_at=timezone.now() + timedelta(hours=1))
    _dispatch(slots)
    assert len(receiver.to("/status/410/")) == 1
    now_due.refresh_from_db()
    later.refresh_from_db()
    now_due.subscription.refresh_from_db()
    assert now_due.subscription.state == SubscriptionState.DELETED
    assert (now_due.state, now_due.last_status_code) == (DeliveryState.FAILED, 410)
    assert (later.state, later.last_error) == (DeliveryState.FAILED, "subscription gone (410)")


def test_requests_to_one_target_never_exceed_the_per_target_cap(slots, receiver):
    busy = _due(receiver, "/slow/0.1/busy")
    for _ in range(5):
        DeliveryFactory(subscription=busy.subscription)
    _due(receiver, "/slow/0.1/other")
    _dispatch(slots, per_target=2)
    assert receiver.most_in_flight == {"/slow/0.1/busy": 2, "/slow/0.1/other": 1}
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}


def test_a_delivery_of_an_erased_lead_is_not_sent(slots, receiver):
    erased = _due(receiver, "/ok/erased", event__body="", event__erased_at=timezone.now())
    _dispatch(slots)
    erased.refresh_from_db()
    assert receiver.requests == []
    assert (erased.state, erased.last_error) == (DeliveryState.FAILED, delivery.LEAD_ERASED)


def test_deliveries_of_an_account_whose_access_was_revoked_are_not_sent(slots, receiver):
    queued = _due(receiver, "/ok/queued")
    marked = _due(receiver, "/ok/marked", access_revoked=True)
    type(queued.subscription.account).objects.filter(pk=queued.subscription.account_id).update(zapier_activated=False)
    _dispatch(slots)
    assert receiver.requests == []
    for row in (queued, marked):
        row.refresh_from_db()
        assert (row.state, row.last_error) == (DeliveryState.FAILED, delivery.ACCESS_REVOKED)


def test_a_redirect_is_a_failed_attempt_and_its_location_is_never_requested(slots, receiver):
    redirected = _due(receiver, "/redirect/")
    _dispatch(slots)
    redirected.refresh_from_db()
    assert (redirected.state, redirected.last_status_code) == (DeliveryState.FAILED, 302)
    assert DeliveryAttempt.objects.get(delivery=redirected).status_code == 302
    assert receiver.to("/ok/redirected") == []


def test_with_private_targets_disallowed_a_loopback_target_is_refused_at_connect_time(slots, receiver, settings):
    settings.HOOKS_ALLOW_PRIVATE_TARGETS = False
    by_address = _due(receiver, "/ok/by-address")
    by_name = _due(receiver, "/ok/by-name")
    type(by_name.subscription).objects.filter(pk=by_name.subscription_id).update(
        target_url=by_name.subscription.target_url.replace("127.0.0.1", "localhost")
    )
    _dispatch(slots)
    assert receiver.requests == []
    for refused in (by_address, by_name):
        refused.refresh_from_db()
        assert refused.state == DeliveryState.PENDING
        assert DeliveryAttempt.objects.get(delivery=refused).error.startswith("TargetRefused: refused:")


def test_a_stopping_dispatcher_finishes_what_is_on_the_wire_and_hands_back_what_it_had_not_started(
    slots, receiver, monkeypatch
):
    first = _due(receiver, "/slow/0.3/stopping")
    for _ in range(2):
        DeliveryFactory(subscription=first.subscription)
    monkeypatch.setattr(dispatch, "SHUTTING_DOWN", threading.Event())

    def stop_once_a_request_arrives():
        receiver.wait_for("/slow/0.3/stopping")
        dispatch.SHUTTING_DOWN.set()

    stopper = threading.Thread(target=stop_once_a_request_arrives)
    stopper.start()
    _dispatch(slots, max_in_flight=1, max_seconds=30)
    stopper.join()
    assert len(receiver.to("/slow/0.3/stopping")) == 1
    states = sorted(Delivery.objects.values_list("state", "attempts", "claimed_until"))
    assert states == [(DeliveryState.PENDING, 0, None)] * 2 + [(DeliveryState.SUCCEEDED, 1, None)]
