"""Waking the dispatcher: a Redis list it blocks on, and a lock that says one is running.

Losing a wake-up is harmless (the sweeper and the dispatcher's own polling find the work); this
only makes the common path fast. Without REDIS_URL (development) every wake enqueues the task.
"""

import logging
import uuid

from kartra_integrations.redis_client import redis_client

logger = logging.getLogger(__name__)

WAKE_KEY = "zaphooks:wake"
RELAY_KEY = "zaphooks:relay"
LOCK_KEY = "zaphooks:dispatcher"
LOCK_TTL_MS = 10_000
# Set while a start message is on its way: without it, every commit while no dispatcher runs (the
# worker down or busy) would queue one more hooks_dispatch message.
STARTING_KEY = "zaphooks:starting"
STARTING_TTL_MS = 10_000
# 1 when the caller should send the start message: no dispatcher runs and none is on its way.
_CLAIM_START = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
if redis.call('set', KEYS[2], 1, 'NX', 'PX', ARGV[1]) then return 1 end
return 0
"""


def dispatcher_wake(relay: bool = False) -> None:
    """Tell a running dispatcher there is work, or start one. Never raises (it runs after commit)."""
    from .tasks import hooks_dispatch

    client = redis_client()
    try:
        if client is not None:
            pipe = client.pipeline(transaction=False)
            if relay:
                pipe.set(RELAY_KEY, 1)
            pipe.lpush(WAKE_KEY, 1)
            pipe.ltrim(WAKE_KEY, 0, 0)
            pipe.eval(_CLAIM_START, 2, LOCK_KEY, STARTING_KEY, STARTING_TTL_MS)
            if not pipe.execute()[-1]:
                return
        hooks_dispatch.apply_async(retry=False)
    except Exception as exc:  # one line, not a traceback per commit while Redis is away
        logger.warning("could not wake the hook dispatcher (%s); the sweeper will", exc)


def dispatcher_starting() -> None:
    """The start message has arrived: the next wake-up after this dispatcher exits may send another."""
    client = redis_client()
    if client is not None:
        client.delete(STARTING_KEY)


def dispatcher_running() -> bool:
    client = redis_client()
    return bool(client is not None and client.exists(LOCK_KEY))


class DispatcherLock:
    """At most one dispatcher per Redis (each one is a whole asyncio process of its own)."""

    def __init__(self):
        self.token = uuid.uuid4().hex
        self.client = redis_client()

    def acquire(self) -> bool:
        if self.client is None:
            return True
        return bool(self.client.set(LOCK_KEY, self.token, nx=True, px=LOCK_TTL_MS))

    def renew(self) -> bool:
        if self.client is None:
            return True
        # Only while it is still ours (it may have expired and been taken).
        return bool(
            self.client.eval(
                "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end "
                "return 0",
                1,
                LOCK_KEY,
                self.token,
                LOCK_TTL_MS,
            )
        )

    def release(self) -> None:
        if self.client is None:
            return
        self.client.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
            1,
            LOCK_KEY,
            self.token,
        )
