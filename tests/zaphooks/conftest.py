"""Hook-test fixtures: a real HTTP receiver on loopback and a real Celery worker on real Redis."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from kartra_integrations.redis_client import redis_client
from tests.leads.factories import LeadFactory, TagFactory
from tests.zaphooks.receiver import Receiver
from zaphooks import wake

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks, SKIP LOCKED)")


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` (thread pool, embedded beat) against the test database and REDIS_URL.

    Module-scoped: it stops when the live tests' module ends. Left running, its beat's sweeper could
    relay the events of later tests (a sweep that saw no dispatcher slot held just before a test
    took them all still relays), as it once did to tests/zaphooks/test_dispatch.py."""
    redis_url = os.environ.get("REDIS_URL")
    with django_db_blocker.unblock():
        vendor = connection.vendor
    if not redis_url or vendor != "postgresql":
        pytest.skip("live hook tests need REDIS_URL and PostgreSQL")
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # this suite's own Redis database: no stale locks or tasks
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kartra_integrations.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "HOOKS_ALLOW_PRIVATE_TARGETS": "true",
    }
    log = open(ROOT / "var" / "test-celery-worker.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "kartra_integrations",
            "worker",
            "--pool=threads",
            "--concurrency=4",
            "--beat",
            "--schedule",
            str(ROOT / "var" / "test-celerybeat-schedule"),
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while "ready." not in (ROOT / "var" / "test-celery-worker.log").read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the Celery worker did not start; see var/test-celery-worker.log")
        time.sleep(0.2)
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def live(celery_worker_process, transactional_db, settings):
    """Use in tests that go through the worker: rows are committed, so the worker sees them, and a
    lead-event commit wakes the dispatcher as in production (off in the other tests)."""
    settings.HOOKS_WAKE_ON_COMMIT = True
    return celery_worker_process


@pytest.fixture
def lead(account):
    return LeadFactory(account=account)


@pytest.fixture
def tag(account):
    return TagFactory(account=account, name="VIP")


@pytest.fixture
def slots(postgres_only, transactional_db, monkeypatch):
    """Every dispatcher slot, held by the test: the one under test runs in the first; no other
    dispatcher can start, and a worker's sweeper leaves the outbox alone. Start messages are noted,
    not sent."""
    if redis_client() is None:
        pytest.skip("needs REDIS_URL")
    monkeypatch.setattr(wake, "_start_dispatcher", lambda: None)
    locks = []
    deadline = time.monotonic() + 30  # a dispatcher of a live test's worker idles out in 20 s
    for _ in range(settings.HOOKS_DISPATCHERS):
        lock = wake.DispatcherLock()
        while not lock.acquire():
            if time.monotonic() > deadline:
                pytest.fail("a hook dispatcher slot stayed taken")
            time.sleep(0.2)
        locks.append(lock)
    yield locks
    for lock in locks:
        lock.release()


def wait_for(condition, what: str, timeout: float = 20.0):
    """Wait for something that takes milliseconds on a quiet machine; what it returned."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.01)
    return found


class CountingRedis(redis.Redis):
    """A Redis client that notes the commands the test's own thread sends through it and waits for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.commands: list[str] = []

    def execute_command(self, *args, **options):
        if threading.current_thread() is threading.main_thread():
            self.commands.append(args[0])
        return super().execute_command(*args, **options)


@pytest.fixture
def redis_round_trips(monkeypatch):
    """The commands the wake-up sends to Redis and waits for."""
    client = CountingRedis.from_url(settings.REDIS_URL)
    monkeypatch.setattr(wake, "redis_client", lambda: client)
    return client.commands


@pytest.fixture(autouse=True)
def _dispatchers_unseen(monkeypatch):
    """Each test's process starts without a reading of the dispatcher slots: one taken in an earlier
    test (whose slots the test held itself) would let its commits push wake-ups blind."""
    monkeypatch.setattr(wake, "_dispatcher_seen_at", None)
