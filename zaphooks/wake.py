"""Waking the dispatchers: a Redis list they block on, and HOOKS_DISPATCHERS lock slots that say which run.

Losing a wake-up is harmless (the sweeper and the dispatchers' own polling find the work); this
only makes the common path fast. Without REDIS_URL (development) every wake enqueues the task.

After a commit that wrote lead events, a process that knows a dispatcher runs (or is starting) makes
no round trip: it pushes the wake-up on a connection Redis never answers (`dispatcher_wake_for_events`);
it waits for Redis's reply only to learn that, at most once per GRACE_SECONDS - SKIP_MARGIN, or to
start one.

Why not PostgreSQL's NOTIFY from a trigger on the event table (which needs no Redis at all): a
transaction that has NOTIFYed takes a cluster-wide lock before it commits and holds it until its
commit is flushed (PreCommit_Notify in PostgreSQL's async.c), so such commits flush one at a time,
never together. pgbench on this machine, single-row INSERTs in autocommit: 5,721 commits/s from 8
clients without the trigger, 973 with it (32 clients: 8,935 and 1,271). Every API write that records
an event would queue behind every other one.
"""

import logging
import os
import threading
import time
import uuid

import redis
from celery import current_app
from django.conf import settings

from kartra_integrations.redis_client import redis_client, redis_script

logger = logging.getLogger(__name__)

HOOKS_DISPATCH_TASK = "zaphooks.hooks_dispatch"
WAKE_KEY = "zaphooks:wake"
SLOT_KEY = "zaphooks:dispatcher:{}"
HELP_KEY = "zaphooks:help"
LOCK_TTL_MS = 10_000
# A dispatcher that cannot keep up starts another at most this often (a new one needs a moment to
# take its slot; asking again before then would only queue tasks that find every slot taken).
HELP_EVERY_MS = 2_000
# Set while a start message is on its way: without it, every commit while no dispatcher runs (the
# worker down or busy) would queue one more hooks_dispatch message.
STARTING_KEY = "zaphooks:starting"
STARTING_TTL_MS = 10_000
# A dispatcher that has released its slot keeps listening and relaying this long before its last look
# at the outbox and its exit; a process trusts a reading "a dispatcher holds a slot" for GRACE_SECONDS
# less SKIP_MARGIN (the margin covers the scheduling of the two processes and their clocks' drift).
GRACE_SECONDS = 1.0
SKIP_MARGIN = 0.25
# Both scripts: KEYS[1] is WAKE_KEY, then the slots; ARGV[1] how many slots. They push one wake-up
# per slot, so every idle dispatcher wakes (a big commit is relayed by all of them, a batch each; a
# dispatcher that finds nothing is back to sleep in a millisecond), and the list never grows past it.
_PUSH_WAKE = """
local slots = tonumber(ARGV[1])
for i = 1, slots do redis.call('lpush', KEYS[1], 1) end
redis.call('ltrim', KEYS[1], 0, slots - 1)
"""
# After commit, one command: KEYS[#KEYS] is STARTING_KEY, ARGV[2] its TTL. 1 when the caller should
# send the start message: no dispatcher holds a slot and no start message is on its way.
_WAKE = (
    _PUSH_WAKE
    + """
for i = 2, #KEYS - 1 do
  if redis.call('exists', KEYS[i]) == 1 then return 0 end
end
if redis.call('set', KEYS[#KEYS], 1, 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""
)
# A dispatcher asking for help: how many slots are taken.
_HELP = _PUSH_WAKE + "return redis.call('exists', unpack(KEYS, 2))"


def _slot_keys() -> list[str]:
    return [SLOT_KEY.format(n) for n in range(settings.HOOKS_DISPATCHERS)]


def _start_dispatcher() -> None:
    # By name from the app's registry: tasks.py runs the dispatcher, which wakes through this module.
    current_app.tasks[HOOKS_DISPATCH_TASK].apply_async(retry=False)


# This process's latest reading of the slots: the monotonic time at which it asked Redis and learnt
# that a dispatcher held a slot or that a start message was on its way (or sent one), or None.
# (A float, assigned whole: threads of one process may share it.)
_dispatcher_seen_at: float | None = None


def dispatcher_wake() -> None:
    """Tell the running dispatchers there is work, or start one. Never raises (it runs after commit)."""
    global _dispatcher_seen_at
    client = redis_client()
    try:
        if client is None:
            _start_dispatcher()
            return
        asked_at = time.monotonic()  # before the call: the reading is at least this old
        keys = [WAKE_KEY, *_slot_keys(), STARTING_KEY]
        if redis_script(client, _WAKE)(keys=keys, args=[settings.HOOKS_DISPATCHERS, STARTING_TTL_MS]):
            _start_dispatcher()
        # Either way a dispatcher runs or is on its way (dispatcher_wake_for_events relies on it).
        _dispatcher_seen_at = asked_at
    except Exception as exc:  # one line, not a traceback per commit while Redis is away
        logger.warning("could not wake the hook dispatcher (%s); the sweeper will", exc)


def dispatcher_wake_for_events() -> None:
    """After a commit that wrote lead events: while this process knows a dispatcher runs or is about
    to, push the wake-up without waiting for a reply (`_WakeSender`); else `dispatcher_wake()`, which
    waits for Redis's answer and starts a dispatcher if none runs. Never raises.

    Why a wake-up that cannot start a dispatcher loses no event. This process asked Redis at R
    (`_dispatcher_seen_at`, taken before it asked) and pushes blind only after a commit that
    completed at C < R + GRACE_SECONDS - SKIP_MARGIN. At R either
    - a dispatcher held a slot. It releases it at some time after R, then keeps popping wake-ups and
      relaying for GRACE_SECONDS, and only then takes its last look at the outbox (`Dispatcher.run`),
      at L > R + GRACE_SECONDS > C: the commit is visible to that last look whether or not its
      wake-up got through, and before then the wake-up wakes it; or
    - a start message was on its way (or this process sent it). The dispatcher it starts relays the
      outbox as soon as it holds a slot; a commit before that is in its first relay, one after it
      wakes it (the wake-up waits in the list for whoever pops it), and it too has the grace above.
      Were every slot taken by then, their holders are in the first case.
    A dispatcher that ends without its last look (killed, its slot lost while Redis was away, or a
    worker's warm shutdown), or a start message that never arrives (STARTING_KEY lapses after
    STARTING_TTL_MS), leaves the event to the sweeper, as a lost wake-up always did."""
    global _dispatcher_seen_at
    seen_at = _dispatcher_seen_at
    if seen_at is None or time.monotonic() - seen_at >= GRACE_SECONDS - SKIP_MARGIN:
        dispatcher_wake()
        return
    try:
        _sender_for(redis_client()).push(settings.HOOKS_DISPATCHERS)
    except Exception as exc:
        _dispatcher_seen_at = None  # the next commit asks Redis again
        logger.warning("could not wake the hook dispatcher (%s); the sweeper will", exc)


class _WakeSender:
    """A connection of this process on which Redis sends no replies (CLIENT REPLY OFF, sent again on
    every reconnection): a wake-up pushed on it costs a send, not a round trip. Its own connection,
    not the pool's: a pooled one would be handed to callers that wait for replies."""

    def __init__(self, client: redis.Redis):
        self.pid = os.getpid()
        self.lock = threading.Lock()  # one push at a time on the one socket
        self.connection = client.connection_pool.make_connection()
        self.connection.register_connect_callback(self._replies_off)

    def _replies_off(self, connection) -> None:
        connection.send_command("CLIENT", "REPLY", "OFF")

    def push(self, slots: int) -> None:
        """What _PUSH_WAKE does, as two commands: Redis would not tell us that the script is missing."""
        commands = [("LPUSH", WAKE_KEY, *[1] * slots), ("LTRIM", WAKE_KEY, 0, slots - 1)]
        with self.lock:
            self.connection.send_packed_command(self.connection.pack_commands(commands))


_sender: _WakeSender | None = None


def _sender_for(client) -> _WakeSender:
    """This process's sender (a forked child makes its own: the parent's socket is not its to use)."""
    global _sender
    if _sender is None or _sender.pid != os.getpid():
        _sender = _WakeSender(client)
    return _sender


def dispatcher_help() -> bool:
    """A dispatcher with more work than room: wake the others, and start another while a slot is
    free. True if it started one."""
    client = redis_client()
    if client is None:  # development: every wake starts a dispatcher already
        return False
    keys = _slot_keys()
    taken = redis_script(client, _HELP)(keys=[WAKE_KEY, *keys], args=[len(keys)])
    if taken >= len(keys) or not client.set(HELP_KEY, 1, nx=True, px=HELP_EVERY_MS):
        return False
    _start_dispatcher()
    return True


def dispatcher_starting() -> None:
    """A start message has arrived: the next wake-up with no dispatcher running may send another."""
    client = redis_client()
    if client is not None:
        client.delete(STARTING_KEY)


def dispatcher_running() -> bool:
    """Whether a dispatcher holds a slot; False when Redis cannot say (the sweeper then does the work)."""
    client = redis_client()
    try:
        return bool(client is not None and client.exists(*_slot_keys()))
    except redis.RedisError:
        return False


class DispatcherLock:
    """One of HOOKS_DISPATCHERS slots: at most that many dispatchers per Redis, each an asyncio loop
    of its own (a process of its own under Celery's prefork pool, so each can use a core)."""

    def __init__(self):
        self.token = uuid.uuid4().hex
        self.client = redis_client()
        self.key: str | None = None

    def acquire(self) -> bool:
        if self.client is None:
            return True
        for key in _slot_keys():
            if self.client.set(key, self.token, nx=True, px=LOCK_TTL_MS):
                self.key = key
                return True
        return False

    def renew(self) -> bool:
        if self.client is None:
            return True
        if self.key is None:  # never acquired
            return False
        # Only while it is still ours (it may have expired and been taken).
        return bool(
            self.client.eval(
                "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end "
                "return 0",
                1,
                self.key,
                self.token,
                LOCK_TTL_MS,
            )
        )

    def release(self) -> None:
        if self.client is None or self.key is None:
            return
        self.client.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
            1,
            self.key,
            self.token,
        )
