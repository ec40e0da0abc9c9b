"""Waking the dispatcher after commit: one start message however many commits arrive while none runs."""

import pytest

from kartra_integrations.redis_client import redis_client
from zaphooks import tasks, wake


@pytest.fixture
def started(monkeypatch):
    """The hooks_dispatch start messages sent, instead of sending them."""
    client = redis_client()
    if client is None:
        pytest.skip("needs REDIS_URL")
    client.delete(*wake._slot_keys(), wake.STARTING_KEY, wake.WAKE_KEY)
    sent = []
    monkeypatch.setattr(tasks.hooks_dispatch, "apply_async", lambda **kwargs: sent.append(kwargs))
    yield sent
    client.delete(*wake._slot_keys(), wake.STARTING_KEY, wake.WAKE_KEY)


def test_a_wake_with_no_dispatcher_running_sends_a_start_message(started):
    wake.dispatcher_wake()
    assert len(started) == 1


def test_wakes_while_a_start_message_is_on_its_way_send_no_more(started):
    for _ in range(5):
        wake.dispatcher_wake()
    assert len(started) == 1


def test_a_wake_after_the_dispatcher_started_and_exited_sends_a_new_start_message(started):
    wake.dispatcher_wake()
    wake.dispatcher_starting()
    wake.dispatcher_wake()
    assert len(started) == 2


def test_a_wake_while_a_dispatcher_runs_only_signals_it(started):
    lock = wake.DispatcherLock()
    assert lock.acquire()
    wake.dispatcher_wake()
    assert started == []
    assert redis_client().llen(wake.WAKE_KEY) >= 1
    lock.release()


def test_wakes_leave_one_wake_up_per_dispatcher_slot(started, settings):
    for _ in range(3):
        wake.dispatcher_wake()
    assert redis_client().llen(wake.WAKE_KEY) == settings.HOOKS_DISPATCHERS


def test_a_dispatcher_asking_for_help_wakes_the_others_and_starts_one_while_a_slot_is_free(started, settings):
    redis_client().delete(wake.HELP_KEY)
    lock = wake.DispatcherLock()
    assert lock.acquire()
    assert wake.dispatcher_help() is True
    assert len(started) == 1
    assert redis_client().llen(wake.WAKE_KEY) == settings.HOOKS_DISPATCHERS
    lock.release()
    redis_client().delete(wake.HELP_KEY)


def test_no_help_is_started_while_every_slot_is_taken(started, settings):
    redis_client().delete(wake.HELP_KEY)
    locks = [wake.DispatcherLock() for _ in range(settings.HOOKS_DISPATCHERS)]
    assert all(lock.acquire() for lock in locks)
    assert wake.dispatcher_help() is False
    assert started == []
    for lock in locks:
        lock.release()


def test_a_lock_never_acquired_renews_nothing_and_releases_nothing(started):
    held = wake.DispatcherLock()
    assert held.acquire()
    never = wake.DispatcherLock()
    assert never.renew() is False
    never.release()
    assert redis_client().exists(held.key) == 1
    held.release()
