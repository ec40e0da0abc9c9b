"""A dispatcher woken by a commit whose process made no round trip, and the grace after a dispatcher
releases its slot that makes such a wake-up safe (wake.dispatcher_wake_for_events)."""

import threading
import time

import pytest

from kartra_integrations.redis_client import redis_client
from leads.services import lead_tag_assign
from tests.leads.factories import LeadFactory, TagFactory
from zaphooks import delivery, dispatch, wake
from zaphooks.dispatch import Dispatcher
from zaphooks.models import Delivery, DeliveryState

from .conftest import wait_for
from .factories import SubscriptionFactory

WOKEN_PATH = "/ok/woken"


class Running:
    """A dispatcher in a thread of the test process, posting to the loopback receiver (200 at WOKEN_PATH)."""

    def __init__(self, lock: wake.DispatcherLock, receiver, **options):
        self.receiver = receiver
        self.dispatcher = Dispatcher(**options)
        self.thread = threading.Thread(target=self.dispatcher.run, kwargs={"lock": lock})
        self.thread.start()

    @property
    def requests(self) -> list:
        return self.receiver.to(WOKEN_PATH)

    def listening(self) -> bool:
        """Its first relay done, it waits for a wake-up."""
        state = getattr(self.dispatcher, "state", None)
        return state is not None and state.last_relay > 0 and not state.want_relay

    def released(self) -> bool:
        return self.dispatcher.grace_until is not None

    def join(self) -> None:
        self.thread.join(20)
        assert not self.thread.is_alive()


@pytest.fixture
def woken_only(slots, redis_round_trips, account, settings, receiver):
    """Lead-event commits wake hook delivery; the relay never polls the outbox by itself, so only a
    wake-up gets an event relayed (claims still poll: a relay's deliveries are claimed with it)."""
    settings.HOOKS_WAKE_ON_COMMIT = True
    settings.HOOKS_RELAY_POLL_SECONDS = 60
    redis_client().delete(wake.WAKE_KEY)
    SubscriptionFactory(account=account, events=["assign_tag"], target_url=receiver.url(WOKEN_PATH))
    yield slots
    dispatch.SHUTTING_DOWN.clear()


@pytest.fixture
def lead(account):
    return LeadFactory(account=account)


def _seen_running_now() -> None:
    """This process read the slots a moment ago and one was held."""
    wake._dispatcher_seen_at = time.monotonic()


def test_a_running_dispatcher_sends_the_event_of_a_commit_that_made_no_round_trip(
    woken_only, redis_round_trips, account, lead, receiver
):
    running = Running(woken_only[0], receiver, idle_seconds=60)
    wait_for(running.listening, "the dispatcher waits for wake-ups")
    _seen_running_now()
    lead_tag_assign(lead=lead, tag=TagFactory(account=account))
    assert redis_round_trips == []
    wait_for(lambda: running.requests, "the event was sent")
    dispatch.SHUTTING_DOWN.set()
    running.join()


def test_a_commit_right_after_the_dispatcher_released_its_slot_is_sent_by_it_during_its_grace(
    woken_only, redis_round_trips, account, lead, receiver
):
    lock = woken_only[0]
    running = Running(lock, receiver, idle_seconds=0, grace_seconds=3)
    wait_for(running.released, "the dispatcher released its slot")
    assert redis_client().exists(lock.key) == 0
    _seen_running_now()  # as if read just before the release
    lead_tag_assign(lead=lead, tag=TagFactory(account=account))
    assert redis_round_trips == []
    wait_for(lambda: running.requests, "the event was sent")
    running.join()


def test_a_commit_in_the_grace_whose_wake_up_is_lost_is_relayed_by_the_last_look(
    woken_only, redis_round_trips, account, lead, monkeypatch, receiver
):
    running = Running(woken_only[0], receiver, idle_seconds=0, grace_seconds=2)
    wait_for(running.released, "the dispatcher released its slot")
    monkeypatch.setattr(wake._WakeSender, "push", lambda self, slots: None)  # lost on its way
    _seen_running_now()
    lead_tag_assign(lead=lead, tag=TagFactory(account=account))
    running.join()
    assert running.requests == []
    assert Delivery.objects.filter(state=DeliveryState.PENDING).count() == 1


def test_a_woken_dispatcher_relays_once_for_the_wake_ups_pushed_for_every_slot(
    woken_only, account, lead, receiver, monkeypatch
):
    relays = []
    relay = delivery.events_relay_claim
    monkeypatch.setattr(delivery, "events_relay_claim", lambda **options: relays.append(1) or relay(**options))
    running = Running(woken_only[0], receiver, idle_seconds=60)
    wait_for(running.listening, "the dispatcher waits for wake-ups")
    relays.clear()
    _seen_running_now()
    lead_tag_assign(lead=lead, tag=TagFactory(account=account))  # a wake-up per slot, one dispatcher running
    wait_for(lambda: running.requests, "the event was sent")
    wait_for(running.listening, "the dispatcher waits for wake-ups again")
    assert relays == [1]
    assert redis_client().llen(wake.WAKE_KEY) == 0
    dispatch.SHUTTING_DOWN.set()
    running.join()
