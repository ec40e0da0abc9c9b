"""The sweeper: the safety net under the dispatchers."""

import pytest

from leads.services import lead_tag_assign
from zaphooks import services, tasks, wake
from zaphooks.models import Delivery, DeliveryState

from .factories import SubscriptionFactory


@pytest.fixture
def started(monkeypatch):
    """The dispatchers the sweeper starts, instead of Celery tasks."""
    calls = []
    monkeypatch.setattr(tasks.hooks_dispatch, "apply_async", lambda **kwargs: calls.append(kwargs))
    return calls


@pytest.fixture
def subscription(account):
    return services.subscription_create(account=account, event="assign_tag", target_url="https://a.example/1")


def test_sweeper_with_no_dispatcher_running_relays_missed_events_and_starts_one(
    monkeypatch, started, subscription, lead, tag
):
    monkeypatch.setattr(wake, "dispatcher_running", lambda: False)
    lead_tag_assign(lead=lead, tag=tag)
    tasks.hooks_sweep()
    assert subscription.deliveries.get().state == DeliveryState.PENDING
    assert len(started) == 1


def test_sweeper_leaves_the_outbox_to_a_running_dispatcher(monkeypatch, started, subscription, lead, tag):
    monkeypatch.setattr(wake, "dispatcher_running", lambda: True)
    lead_tag_assign(lead=lead, tag=tag)
    tasks.hooks_sweep()
    assert not Delivery.objects.exists()
    assert started == []


def test_dispatcher_running_is_false_when_redis_cannot_say(monkeypatch):
    class Unreachable:
        def exists(self, *keys):
            raise wake.redis.ConnectionError("Connection refused")

    monkeypatch.setattr(wake, "redis_client", lambda: Unreachable())
    assert wake.dispatcher_running() is False


@pytest.mark.parametrize("state", ["disabled", "deleted"])
def test_zapier_is_told_with_a_delete_to_the_target_when_a_subscription_stops(db, receiver, state):
    stopped = SubscriptionFactory(target_url=receiver.url("/ok/stopped"), state=state)
    assert tasks.zapier_unsubscribe_notify(stopped.pk) == 200
    assert len(receiver.to("/ok/stopped", method="DELETE")) == 1


def test_the_stop_notice_follows_no_redirect(db, receiver):
    stopped = SubscriptionFactory(target_url=receiver.url("/redirect/"), state="disabled")
    assert tasks.zapier_unsubscribe_notify(stopped.pk) == 302
    assert receiver.to("/ok/redirected", method="DELETE") == []
