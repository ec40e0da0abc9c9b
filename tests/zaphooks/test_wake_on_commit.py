"""PostgreSQL wakes the dispatchers at commit: the trigger's NOTIFY, a dispatcher's listener, and the
grace after a dispatcher releases its slot that lets a process skip its own Redis call."""

import asyncio
import threading
import time
from contextlib import contextmanager

import httpx
import psycopg
import pytest
from django.db import connection, transaction

from kartra_integrations.redis_client import redis_client
from leads.services import lead_tag_assign
from tests.leads.factories import LeadFactory, TagFactory
from zaphooks import wake
from zaphooks.dispatch import Dispatcher
from zaphooks.models import Delivery, DeliveryState

from .conftest import _database_url
from .factories import SubscriptionFactory

WAIT = 20.0  # seconds to wait for something that happens in milliseconds on a quiet machine


def _wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT
    while not (found := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.01)
    return found


@pytest.fixture
def listener(postgres_only, transactional_db):
    """A connection LISTENing where the dispatchers listen."""
    with psycopg.connect(_database_url(), autocommit=True) as conn:
        conn.execute(f"LISTEN {wake.WAKE_CHANNEL}")
        yield conn


def _notifications(conn) -> int:
    """The notifications that arrive within half a second (they are sent at commit)."""
    return len(list(conn.notifies(timeout=0.5)))


@pytest.fixture
def lead(account):
    return LeadFactory(account=account)


def test_a_transaction_that_writes_events_notifies_once_when_it_commits(listener, account, lead):
    tags = TagFactory.create_batch(3, account=account)
    with transaction.atomic():
        for tag in tags:
            lead_tag_assign(lead=lead, tag=tag)
        assert _notifications(listener) == 0
    assert _notifications(listener) == 1


def test_a_rolled_back_transaction_notifies_nobody(listener, account, lead):
    with transaction.atomic():
        lead_tag_assign(lead=lead, tag=TagFactory(account=account))
        transaction.set_rollback(True)
    assert _notifications(listener) == 0


def test_a_statement_that_writes_no_event_notifies_nobody(listener, account, lead):
    tag = TagFactory(account=account)
    lead_tag_assign(lead=lead, tag=tag)
    assert _notifications(listener) == 1
    assert lead_tag_assign(lead=lead, tag=tag) is False  # had it already: no event
    assert _notifications(listener) == 0


def test_a_listening_dispatcher_is_woken_by_a_commit_that_made_no_redis_call(slots, account, lead, settings):
    settings.HOOKS_WAKE_ON_COMMIT = True
    client = redis_client()
    client.delete(wake.WAKE_KEY)
    tag = TagFactory(account=account)
    dispatcher = Dispatcher()

    async def woken_by_the_commit() -> bool:
        dispatcher.progress, dispatcher.woken = asyncio.Event(), False
        listening = asyncio.create_task(dispatcher._listen_postgres())
        await asyncio.wait_for(dispatcher.progress.wait(), WAIT)  # the wake-up of starting to listen
        dispatcher.progress.clear()
        dispatcher.woken = False
        wake._running_seen_at = time.monotonic()  # this process saw a dispatcher running a moment ago
        await asyncio.to_thread(lead_tag_assign, lead=lead, tag=tag)
        try:
            await asyncio.wait_for(dispatcher.progress.wait(), WAIT)
        finally:
            listening.cancel()
        return dispatcher.woken

    assert asyncio.run(woken_by_the_commit())
    assert client.llen(wake.WAKE_KEY) == 0


class Running:
    """A dispatcher in a thread of the test process, its requests answered 200 and noted."""

    def __init__(self, lock: wake.DispatcherLock, **options):
        self.requests: list[httpx.Request] = []
        self.dispatcher = Dispatcher(transport_factory=lambda **limits: httpx.MockTransport(self._answer), **options)
        self.thread = threading.Thread(target=self.dispatcher.run, kwargs={"lock": lock})
        self.thread.start()

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, text="ok")

    def released(self) -> bool:
        return self.dispatcher.grace_until is not None

    def join(self) -> None:
        self.thread.join(WAIT)
        assert not self.thread.is_alive()


@pytest.fixture
def wake_on_commit_only(slots, settings):
    """Lead-event commits wake hook delivery; the relay never polls the outbox by itself, so only a
    wake-up gets an event relayed (claims still poll: that is how a relay's deliveries are sent)."""
    settings.HOOKS_WAKE_ON_COMMIT = True
    settings.HOOKS_RELAY_POLL_SECONDS = 60
    redis_client().delete(wake.WAKE_KEY)
    return slots


def test_a_commit_right_after_the_dispatcher_released_its_slot_is_sent_by_it_during_its_grace(
    wake_on_commit_only, account, lead
):
    subscription = SubscriptionFactory(account=account, events=["assign_tag"])
    lock = wake_on_commit_only[0]
    running = Running(lock, idle_seconds=0, grace_seconds=3)
    _wait_for(running.released, "the dispatcher released its slot")
    assert redis_client().exists(lock.key) == 0
    wake._running_seen_at = time.monotonic()  # the process read the slot just before its release
    lead_tag_assign(lead=lead, tag=TagFactory(account=account))
    [request] = _wait_for(lambda: running.requests, "the event was sent")
    running.join()
    assert str(request.url) == subscription.target_url
    assert redis_client().llen(wake.WAKE_KEY) == 0  # woken by the commit's NOTIFY alone


@contextmanager
def _commits_notify_nobody():
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE leads_leadevent DISABLE TRIGGER zaphooks_wake")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE leads_leadevent ENABLE TRIGGER zaphooks_wake")


def test_a_commit_in_the_grace_whose_notification_is_lost_is_relayed_by_the_last_look(
    wake_on_commit_only, account, lead
):
    SubscriptionFactory(account=account, events=["assign_tag"])
    running = Running(wake_on_commit_only[0], idle_seconds=0, grace_seconds=2)
    _wait_for(running.released, "the dispatcher released its slot")
    wake._running_seen_at = time.monotonic()
    with _commits_notify_nobody():
        lead_tag_assign(lead=lead, tag=TagFactory(account=account))
    running.join()
    assert running.requests == []
    assert Delivery.objects.filter(state=DeliveryState.PENDING).count() == 1
