"""Through the real machinery: a Celery worker on Redis, PostgreSQL, and an HTTP receiver on loopback."""

import time
from datetime import timedelta

import pytest
import standardwebhooks
from django.db import transaction
from django.utils import timezone

from leads.models import LeadEvent
from leads.services import lead_tag_assign
from tests.leads.factories import TagFactory
from zaphooks import services
from zaphooks.models import Delivery, DeliveryAttempt, DeliveryState, Subscription, SubscriptionState

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _subscribe(account, receiver, path, **kwargs):
    return services.subscription_create(
        account=account, event=kwargs.pop("event", "assign_tag"), target_url=receiver.url(path), **kwargs
    )


def _wait(predicate, timeout=25.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_event_is_delivered_once_signed_and_verifiable(live, receiver, account, lead, tag):
    _subscribe(account, receiver, "/ok/signed")
    lead_tag_assign(lead=lead, tag=tag)
    [request] = receiver.wait_for("/ok/signed")
    event = LeadEvent.objects.get()
    secret = services.signing_secret_get_or_create(account=account)
    payload = standardwebhooks.Webhook(secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == payload["id"] == str(event.pk)
    assert request.headers["content-type"] == "application/json"
    assert payload["action"] == "assign_tag" and payload["lead"]["id"] == lead.pk
    assert payload["action_details"] == {"tag": {"tag_id": tag.pk, "tag_name": "VIP"}}
    _wait(lambda: Delivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 1)


def test_signature_does_not_verify_with_another_secret(live, receiver, account, other_account, lead, tag):
    _subscribe(account, receiver, "/ok/other-secret")
    lead_tag_assign(lead=lead, tag=tag)
    [request] = receiver.wait_for("/ok/other-secret")
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(services.signing_secret_get_or_create(account=other_account)).verify(
            request.body, request.headers
        )


def test_during_rotation_both_secrets_verify(live, receiver, account, lead, tag):
    old = services.signing_secret_get_or_create(account=account)
    new = services.signing_secret_rotate(account=account).secret
    _subscribe(account, receiver, "/ok/rotation")
    lead_tag_assign(lead=lead, tag=tag)
    [request] = receiver.wait_for("/ok/rotation")
    for secret in (old, new):
        standardwebhooks.Webhook(secret).verify(request.body, request.headers)


def test_filter_sends_only_matching_events(live, receiver, account, lead, tag):
    other_tag = TagFactory(account=account, name="Customer")
    _subscribe(account, receiver, "/ok/vip", filter={"tag": "VIP"})
    _subscribe(account, receiver, "/ok/customer", filter={"tag": other_tag.pk})
    lead_tag_assign(lead=lead, tag=tag)
    [request] = receiver.wait_for("/ok/vip")
    assert request.json()["action_details"]["tag"]["tag_id"] == tag.pk
    assert receiver.to("/ok/customer") == []


def test_failed_attempt_is_retried_within_ten_seconds_with_the_same_id(live, receiver, account, lead, tag):
    _subscribe(account, receiver, "/flaky/1/retry")
    lead_tag_assign(lead=lead, tag=tag)
    first, second = receiver.wait_for("/flaky/1/retry", 2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    failed = DeliveryAttempt.objects.get(status_code=500)
    assert failed.next_attempt_at - failed.attempted_at <= timedelta(seconds=10)
    _wait(lambda: Delivery.objects.get().state == DeliveryState.SUCCEEDED)


def test_retry_after_is_honoured(live, receiver, account, lead, tag):
    _subscribe(account, receiver, "/retry-after/2/wait")
    lead_tag_assign(lead=lead, tag=tag)
    first, second = receiver.wait_for("/retry-after/2/wait", 2)
    assert second.at - first.at >= 2.0
    attempt = DeliveryAttempt.objects.order_by("attempted_at").first()
    assert attempt.status_code == 429
    assert attempt.next_attempt_at - attempt.attempted_at >= timedelta(seconds=2)


def test_gone_deletes_the_subscription(live, receiver, account, lead, tag):
    subscription = _subscribe(account, receiver, "/status/410/gone")
    lead_tag_assign(lead=lead, tag=tag)
    receiver.wait_for("/status/410/gone")
    _wait(lambda: Subscription.objects.get(pk=subscription.pk).state == SubscriptionState.DELETED)


def test_other_4xx_is_not_retried(live, receiver, account, lead, tag):
    _subscribe(account, receiver, "/status/400/refused")
    lead_tag_assign(lead=lead, tag=tag)
    receiver.wait_for("/status/400/refused")
    _wait(lambda: Delivery.objects.get().state == DeliveryState.FAILED)
    delivery = Delivery.objects.get()
    assert delivery.attempts == 1 and delivery.next_attempt_at is None


def test_timeout_is_recorded_and_retried(live, receiver, account, lead, tag):
    _subscribe(account, receiver, "/slow/12/timeout")
    lead_tag_assign(lead=lead, tag=tag)
    _wait(lambda: DeliveryAttempt.objects.exists(), timeout=40)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and "timed out" in attempt.error
    assert attempt.next_attempt_at is not None


def test_a_slow_endpoint_does_not_hold_back_another(live, receiver, account, lead, tag):
    slow = _subscribe(account, receiver, "/slow/4/slow-one")
    _subscribe(account, receiver, "/ok/fast-one")
    lead_tag_assign(lead=lead, tag=tag)
    receiver.wait_for("/ok/fast-one")
    # The fast endpoint got its event while the slow one's request was still open.
    assert not DeliveryAttempt.objects.filter(delivery__subscription=slow).exists()


def test_disabled_after_a_day_of_failures_then_reenabled_and_replayed(live, receiver, account, lead, tag):
    subscription = _subscribe(account, receiver, "/flaky/1/dead")
    Subscription.objects.filter(pk=subscription.pk).update(first_failure_at=timezone.now() - timedelta(days=1, hours=1))
    lead_tag_assign(lead=lead, tag=tag)
    _wait(lambda: Subscription.objects.get(pk=subscription.pk).state == SubscriptionState.DISABLED)
    assert Delivery.objects.get().state == DeliveryState.FAILED
    services.subscription_enable(account=account, subscription_id=subscription.pk)
    assert services.deliveries_replay(account=account, subscription_id=subscription.pk) == 1
    first, second = receiver.wait_for("/flaky/1/dead", 2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    _wait(lambda: Delivery.objects.get().state == DeliveryState.SUCCEEDED)


def test_revocation_stops_subscriptions_and_tells_zapier(live, receiver, account, lead, tag):
    _subscribe(account, receiver, "/ok/revoked")
    services.account_subscriptions_stop(account=account)
    receiver.wait_for("/ok/revoked", method="DELETE")
    lead_tag_assign(lead=lead, tag=TagFactory(account=account))
    _subscribe(account, receiver, "/ok/still-on-elsewhere")  # a new Zap after re-approval still works
    lead_tag_assign(lead=lead, tag=tag)
    receiver.wait_for("/ok/still-on-elsewhere")
    assert receiver.to("/ok/revoked") == []


def test_rolled_back_change_is_never_delivered(live, receiver, account, lead, tag):
    _subscribe(account, receiver, "/ok/rollback")
    rolled_back = TagFactory(account=account, name="Rolled back")
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_tag_assign(lead=lead, tag=rolled_back)
        raise RuntimeError("the request failed after the tag was assigned")
    lead_tag_assign(lead=lead, tag=tag)
    [request] = receiver.wait_for("/ok/rollback")
    assert request.json()["action_details"]["tag"]["tag_id"] == tag.pk
