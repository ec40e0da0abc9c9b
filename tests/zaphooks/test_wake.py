"""Waking the dispatcher after commit: one start message however many commits arrive while none runs,
and no round trip while the process knows a dispatcher runs (the wake-up is pushed without a reply)."""

import pytest

from kartra_integrations.redis_client import redis_client
from leads.services import lead_tag_assign
from tests.leads.factories import LeadFactory, TagFactory
from tests.zaphooks.conftest import wait_for
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


@pytest.fixture
def redis_commands(started, redis_round_trips):
    return redis_round_trips


@pytest.fixture
def commits(postgres_only, transactional_db, account, settings):
    """Commit one lead event (a tag assigned), waking hook delivery as in production."""
    settings.HOOKS_WAKE_ON_COMMIT = True
    lead = LeadFactory(account=account)

    def commit():
        lead_tag_assign(lead=lead, tag=TagFactory(account=account))

    return commit


@pytest.fixture
def dispatcher_slot(started):
    """A slot held, as by a running dispatcher."""
    lock = wake.DispatcherLock()
    assert lock.acquire()
    yield lock
    lock.release()


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


def test_a_commit_asks_redis_and_learns_that_a_dispatcher_runs(dispatcher_slot, redis_commands, commits):
    commits()
    assert "EVALSHA" in redis_commands
    assert wake._dispatcher_seen_at is not None


def test_while_the_process_knows_a_dispatcher_runs_a_commit_pushes_its_wake_up_without_a_round_trip(
    dispatcher_slot, redis_commands, commits, settings
):
    commits()
    asked = len(redis_commands)
    redis_client().delete(wake.WAKE_KEY)
    commits()
    assert len(redis_commands) == asked
    wait_for(lambda: redis_client().llen(wake.WAKE_KEY) == settings.HOOKS_DISPATCHERS, "a wake-up per slot")


def test_once_its_reading_is_older_than_the_grace_less_the_margin_a_commit_asks_redis_again(
    dispatcher_slot, redis_commands, commits
):
    commits()
    asked = len(redis_commands)
    wake._dispatcher_seen_at -= wake.GRACE_SECONDS - wake.SKIP_MARGIN
    commits()
    assert redis_commands[asked:] == ["EVALSHA"]


def test_a_commit_with_no_dispatcher_running_sends_a_start_message_and_the_next_pushes_without_a_round_trip(
    redis_commands, commits, started
):
    commits()
    asked = len(redis_commands)
    commits()
    assert len(started) == 1
    assert len(redis_commands) == asked


def test_without_redis_every_commit_sends_a_start_message(commits, started, monkeypatch):
    monkeypatch.setattr(wake, "redis_client", lambda: None)
    commits()
    commits()
    assert len(started) == 2


def test_a_replay_wakes_through_redis_even_while_the_process_knows_a_dispatcher_runs(
    dispatcher_slot, redis_commands, commits
):
    commits()
    asked = len(redis_commands)
    wake.dispatcher_wake()  # what a replay, the relay or a dispatcher's last look calls: no NOTIFY there
    assert redis_commands[asked:] == ["EVALSHA"]


def _blind_connection_id() -> int | None:
    """The id of this test database's connection whose last command was a blind push's LTRIM."""
    db = redis_client().connection_pool.connection_kwargs.get("db", 0)
    for client in redis_client().client_list():
        if client["db"] == str(db) and client["cmd"] == "ltrim":
            return int(client["id"])
    return None


def test_after_redis_drops_the_blind_connection_the_wake_ups_get_through_again(
    dispatcher_slot, redis_commands, commits, settings
):
    commits()
    commits()  # pushed blind: the connection is open
    redis_client().client_kill_filter(_id=wait_for(_blind_connection_id, "the blind connection"))
    redis_client().delete(wake.WAKE_KEY)
    for _ in range(3):  # the first write on the dropped socket may vanish, the next fails: then it asks
        commits()
    wait_for(lambda: redis_client().llen(wake.WAKE_KEY) == settings.HOOKS_DISPATCHERS, "a wake-up per slot")
    asked = len(redis_commands)
    redis_client().delete(wake.WAKE_KEY)
    commits()  # blind again, on a new connection that Redis does not answer either
    assert len(redis_commands) == asked
    wait_for(lambda: redis_client().llen(wake.WAKE_KEY) == settings.HOOKS_DISPATCHERS, "a wake-up per slot")
