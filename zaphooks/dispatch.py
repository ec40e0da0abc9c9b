"""The dispatcher: one asyncio loop that relays events, claims due deliveries and sends them.

Each round of the loop (`Dispatcher._loop`) is a few named steps: keep the lock (`_lock_keep`), free
expired claims (`_sweep`), relay a batch of the outbox and send what it claimed (`_relay`), claim due
deliveries and send them (`_claim`), write the results in batches (`_record`), exit when idle for a
while (`_idle`, `_exit_wanted`) and wait for progress (`_wait`). Claimed deliveries wait in a
ready queue per subscription (`LoopState.ready`, up to as many again as may be in flight): a finished
request starts the next one at once (`_on_finished`), without waiting for the round or a claim's
round trip. On the way out, `_drain` hands back what is ready, and finishes and records what is in
flight. `LoopState` is what the rounds carry.

Why not one Celery task per delivery: a prefork pool of blocking requests manages a handful of
deliveries a second against a slow receiver. Here one process keeps hundreds of requests in flight
(one aiohttp session), caps them per subscription so a slow endpoint holds back nobody else, and
claims and records in bulk from two database threads (Django's ORM is synchronous).

It runs as the Celery task `hooks_dispatch`, started by a wake-up after commit or by the sweeper,
and exits after a quiet spell. Up to HOOKS_DISPATCHERS run at once, each holding a Redis slot
(wake.DispatcherLock): one whose work outgrows its room starts the next, and they share the work
through SKIP LOCKED (relay batches and claims never overlap). Under Celery's prefork pool each is a
process of its own, so each has a core, where one process's client saturates one. All state that
matters is in the database: a killed dispatcher loses nothing, its claims expire and are sent again.
"""

import asyncio
import collections
import contextlib
import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import aiohttp
import redis.asyncio as aioredis
from celery.signals import worker_process_init, worker_shutting_down
from celery.worker import state as worker_state
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from kartra_integrations.redis_client import redis_client

from . import delivery, selectors, signing, targets, wake

logger = logging.getLogger(__name__)

RESPONSE_START_BYTES = 500
SECRETS_MAX_AGE = 10.0  # a rotated secret is used within this many seconds
RELAY_BATCH = 500
CLAIM_BATCH = 500
# While deliveries may be waiting for room, claim again once this many requests have finished (or
# none is in flight): a claim per finished request would keep the database thread busy.
CLAIM_AFTER_FREED = 64
# Claimed deliveries kept ready to start, as a multiple of what may be in flight (per dispatcher and
# per subscription): when a request finishes the next starts at once, while the next claim is on its
# way. Their lease (delivery.LEASE, 30 s) is far longer than a ready queue takes to empty.
PREFETCH = 2
RECORD_AFTER = 0.2  # seconds a result may wait to be recorded with others
RECORD_BATCH = 500


# Set when the Celery worker begins a warm shutdown: the loop stops claiming, finishes what is in
# flight and records it, so a deploy or a test teardown does not wait for the idle timeout.
SHUTTING_DOWN = threading.Event()
# How the worker's main process passes the news to a prefork pool child running a dispatcher
# (Celery signals only the main process; the children finish their task however long it runs).
STOP_SIGNAL = signal.SIGUSR2


@worker_shutting_down.connect
def _stop_dispatching(**kwargs) -> None:
    SHUTTING_DOWN.set()
    for request in list(worker_state.active_requests):
        if request.name == "zaphooks.hooks_dispatch" and request.worker_pid not in (None, os.getpid()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(request.worker_pid, STOP_SIGNAL)


@worker_process_init.connect
def _stop_on_signal(**kwargs) -> None:
    signal.signal(STOP_SIGNAL, lambda signum, frame: SHUTTING_DOWN.set())


def _close_db() -> None:
    connection.close()


@dataclass
class LoopState:
    """What one dispatcher's rounds carry from one to the next."""

    in_flight: dict[asyncio.Task, delivery.Job] = field(default_factory=dict)
    per_sub: dict[int, int] = field(default_factory=dict)  # requests in flight per subscription
    ready: dict[int, collections.deque[delivery.Job]] = field(default_factory=dict)  # claimed, not started
    ready_count: int = 0
    results: list[delivery.Result] = field(default_factory=list)  # not recorded yet
    recording: asyncio.Future | None = None  # the batch of results being written
    last_relay: float = 0.0
    last_claim: float = 0.0
    last_renew: float = 0.0
    last_sweep: float = 0.0
    last_activity: float = field(default_factory=time.monotonic)
    first_result_at: float = field(default_factory=time.monotonic)
    want_claim: bool = True  # more deliveries may be due than the last claim took
    want_relay: bool = True  # the outbox may hold more than the last relay took
    relay_after_wake: bool = False  # this relay was asked for by a wake-up
    freed: int = 0  # requests finished since the last claim


@dataclass
class Stats:
    sent: int = 0
    relayed: int = 0
    claims: int = 0
    started: float = field(default_factory=time.monotonic)


class Dispatcher:
    def __init__(
        self,
        *,
        max_in_flight: int | None = None,
        per_target: int | None = None,
        idle_seconds: float | None = None,
        max_seconds: float | None = None,
        grace_seconds: float | None = None,
    ):
        self.max_in_flight = max_in_flight or settings.HOOKS_MAX_IN_FLIGHT
        # The cap per target holds across the dispatchers: each takes its share.
        self.per_target = per_target or -(-settings.HOOKS_MAX_IN_FLIGHT_PER_TARGET // settings.HOOKS_DISPATCHERS)
        self.idle_seconds = idle_seconds if idle_seconds is not None else settings.HOOKS_DISPATCH_IDLE_SECONDS
        self.max_seconds = max_seconds or settings.HOOKS_DISPATCH_MAX_SECONDS
        self.has_redis = redis_client() is not None
        # With Redis, every commit that writes events wakes us (BLPOP): polling is only the safety
        # net, and each empty poll would hold the one database thread that a woken relay waits on.
        self.relay_poll = settings.HOOKS_RELAY_POLL_SECONDS or (1.0 if self.has_redis else 0.1)
        self.claim_poll = 0.5 if self.has_redis else 0.05
        self.help_asked_at = 0.0
        self.stats = Stats()
        # Once its slot is released: how long it keeps popping wake-ups and relaying before its last look,
        # and until when (wake.dispatcher_wake_for_events says why; without Redis nobody pushes blind).
        if grace_seconds is None:
            grace_seconds = wake.GRACE_SECONDS if self.has_redis else 0.0
        self.grace_seconds = grace_seconds
        self.grace_until: float | None = None

    # --- entry point (synchronous, from the Celery task) -------------------------------------

    def run(self, *, lock: wake.DispatcherLock | None = None) -> Stats:
        """Dispatch until idle; a no-op when every slot is taken. `lock`: a slot the caller holds already."""
        if lock is None:
            lock = wake.DispatcherLock()
            if not lock.acquire():
                return self.stats
        try:
            asyncio.run(self._main(lock))
        finally:
            lock.release()
        if SHUTTING_DOWN.is_set():
            return self.stats
        # We released the slot at least grace_seconds ago and kept relaying on wake-ups since: anything
        # committed from here on finds no slot and starts a new dispatcher; anything committed before is
        # found by this last look, including the commits whose wake-up was pushed without a reply because
        # a reading younger than the grace told their process a dispatcher ran (wake.dispatcher_wake_for_events).
        close_old_connections()
        if delivery.events_relay(wake=False) or selectors.due_deliveries_exist():
            wake.dispatcher_wake()
        return self.stats

    # --- the loop ----------------------------------------------------------------------------

    async def _main(self, lock: wake.DispatcherLock) -> None:
        self.loop = asyncio.get_running_loop()
        # Two database threads (a connection each): results are written on one while the loop
        # relays and claims on the other, so a claim never waits behind a write.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hooks-db")
        self.recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hooks-record")
        # One session: its connector keeps a connection per request in flight (the dispatcher caps
        # them, so the connector needs no limit of its own), every new one checked by the SSRF guard.
        self.session = targets.guarded_session(limit=0)
        self.secrets: dict[int, tuple[float, list[str]]] = {}
        # What the loop waits for: a wake-up from Redis, or requests finished.
        self.progress = asyncio.Event()
        self.woken = False
        listener = asyncio.create_task(self._listen()) if self.has_redis else None
        try:
            await self._loop(lock)
        finally:
            if listener:
                listener.cancel()
            await self.session.close()
            for executor in (self.executor, self.recorder):
                await self.loop.run_in_executor(executor, _close_db)
                executor.shutdown(wait=True)

    async def _db(self, fn, /, **kwargs):
        return await self.loop.run_in_executor(self.executor, partial(fn, **kwargs))

    async def _listen(self) -> None:
        client = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1)
        try:
            while True:
                try:
                    if await client.blpop([wake.WAKE_KEY], timeout=1):
                        self.woken = True
                        self.progress.set()
                        # A wake-up is pushed per slot; Redis hands them to the dispatchers blocked on
                        # the list as it pushes. What is left was meant for slots no dispatcher waits
                        # on: popped here one by one, each would cost this dispatcher an empty relay.
                        await client.ltrim(wake.WAKE_KEY, 1, 0)
                except asyncio.CancelledError:
                    raise
                except Exception:  # Redis away: the loop's own polling carries on
                    await asyncio.sleep(0.5)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _loop(self, lock: wake.DispatcherLock) -> None:
        """Round after round: keep the lock, sweep, relay, claim, record; exit when idle; wait."""
        self.state = state = LoopState()
        while not SHUTTING_DOWN.is_set():
            now = time.monotonic()
            if not await self._lock_keep(lock, now):
                logger.warning("hook dispatcher lost its lock; stopping")
                break
            await self._sweep(now)
            if state.want_relay or now - state.last_relay > self.relay_poll:
                await self._relay(now)
            if self._claim_wanted(now):
                await self._claim(now)
            self._record()
            if self._idle() and await self._exit_wanted(lock):
                break
            await self._wait()
        # Leaving with requests in flight (lock lost, time up or a shutdown): finish and record them.
        await self._drain()

    # --- the steps of a round ------------------------------------------------------------------

    def _room(self) -> int:
        """Deliveries this dispatcher may still claim: in flight and ready together."""
        return PREFETCH * self.max_in_flight - len(self.state.in_flight) - self.state.ready_count

    def _target_room(self) -> dict[int, int]:
        """Per subscription with requests in flight or ready: how many more it may claim."""
        state = self.state
        subs = state.per_sub.keys() | state.ready.keys()
        return {
            sub: PREFETCH * self.per_target - state.per_sub.get(sub, 0) - len(state.ready.get(sub, ())) for sub in subs
        }

    async def _lock_keep(self, lock: wake.DispatcherLock, now: float) -> bool:
        """Renew the dispatcher's slot once a second; False when it is no longer ours. (In the grace
        after its release there is nothing to renew.)"""
        if self.grace_until is not None or now - self.state.last_renew <= 1.0:
            return True
        self.state.last_renew = now
        return await self.loop.run_in_executor(None, self._renew, lock)

    async def _sweep(self, now: float) -> None:
        """Every 5 s: claims whose lease ran out (a crashed dispatcher) become due again."""
        if now - self.state.last_sweep > 5.0:
            self.state.last_sweep = now
            await self._db(delivery.deliveries_release_expired)

    async def _relay(self, now: float) -> None:
        """Relay one batch of the outbox; up to the room we have of the deliveries it makes come back
        claimed, and are sent at once (sending starts after the first batch, not the whole backlog)."""
        state = self.state
        state.last_relay = now
        batch = await self._db(
            delivery.events_relay_claim,
            limit=RELAY_BATCH,
            claim=max(self._room(), 0),
            room=self._target_room(),
            default_room=PREFETCH * self.per_target,
        )
        state.want_relay = batch.read == RELAY_BATCH
        self.stats.relayed += batch.recorded
        left_pending = batch.deliveries > len(batch.jobs)
        if left_pending or (state.relay_after_wake and not batch.read):
            # Deliveries left pending, or a wake-up that was not about new events (a replay).
            state.want_claim = True
        if state.want_relay or left_pending:
            await self._ask_for_help()
        state.relay_after_wake = False
        await self._send_jobs(batch.jobs)

    def _claim_wanted(self, now: float) -> bool:
        """Claim when there is room and either more is known to be due (then only once enough requests
        have finished, or none is in flight) or the claim poll is due."""
        state = self.state
        if self._room() <= 0:
            return False
        if state.want_claim and (state.freed >= CLAIM_AFTER_FREED or not state.in_flight):
            return True
        return now - state.last_claim > self.claim_poll

    async def _claim(self, now: float) -> None:
        """Claim due deliveries (retries, replays, what the relay left pending) and send them."""
        state = self.state
        state.last_claim, state.freed = now, 0
        limit = min(self._room(), CLAIM_BATCH)
        room = self._target_room()
        full = {sub for sub, n in room.items() if n <= 0}
        claimed = await self._db(
            delivery.deliveries_claim, limit=limit, room=room, default_room=PREFETCH * self.per_target
        )
        self.stats.claims += 1
        # More may be due: rows left for lack of room, a full batch, or subscriptions at their cap
        # that the claim did not look at.
        state.want_claim = claimed.left > 0 or len(claimed.jobs) == limit or bool(full)
        if claimed.left:
            await self._ask_for_help()
        await self._send_jobs(claimed.jobs)

    async def _send_jobs(self, jobs: list[delivery.Job]) -> None:
        """Start a request per job (the accounts' signing secrets read first when stale)."""
        if not jobs:
            return
        self.state.last_activity = time.monotonic()
        await self._secrets_for({job.account_id for job in jobs})
        state = self.state
        for job in jobs:
            state.ready.setdefault(job.subscription_id, collections.deque()).append(job)
        state.ready_count += len(jobs)
        self._start_ready()

    def _record(self) -> None:
        """Results are written together, on the recording thread, one batch at a time: once
        RECORD_BATCH have come back, or the oldest has waited RECORD_AFTER."""
        state = self.state
        if state.recording is not None and state.recording.done():
            state.recording.result()  # a failed write stops the dispatcher; the leases expire
            state.recording = None
        if (
            state.results
            and state.recording is None
            and (len(state.results) >= RECORD_BATCH or time.monotonic() - state.first_result_at > RECORD_AFTER)
        ):
            batch, state.results = state.results, []
            state.recording = self.loop.run_in_executor(
                self.recorder, partial(delivery.deliveries_record, results=batch)
            )
            state.recording.add_done_callback(lambda _: self.progress.set())
            self.stats.sent += len(batch)
            state.last_activity = time.monotonic()

    def _idle(self) -> bool:
        """Nothing in flight, to record or known to be waiting."""
        state = self.state
        return (
            not state.in_flight
            and not state.ready_count
            and not state.results
            and state.recording is None
            and not state.want_claim
            and not state.want_relay
        )

    async def _exit_wanted(self, lock: wake.DispatcherLock) -> bool:
        """While idle: exit once the run has lasted max_seconds, or after idle_seconds unless a retry is
        due within a minute. Then first release the slot and carry on grace_seconds more, relaying on
        wake-ups (wake.dispatcher_wake_for_events); exit when idle after that."""
        now = time.monotonic()
        if self.grace_until is not None:
            return now >= self.grace_until
        time_up = now - self.stats.started > self.max_seconds
        if not time_up and (now - self.state.last_activity <= self.idle_seconds or await self._db(self._retry_soon)):
            return False
        if self.grace_seconds <= 0:
            return True
        await self.loop.run_in_executor(None, self._release, lock)
        self.grace_until = time.monotonic() + self.grace_seconds
        return False

    async def _wait(self) -> None:
        """Until a request finishes, a wake-up arrives, a recording is done or a poll is due."""
        state = self.state
        if not self.woken:
            timeout = min(self.relay_poll, self.claim_poll)
            if state.results and state.recording is None:
                timeout = max(0.001, min(timeout, state.first_result_at + RECORD_AFTER - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.progress.wait()
        self.progress.clear()
        if self.woken:
            self.woken = False
            state.want_relay = state.relay_after_wake = True

    async def _drain(self) -> None:
        """Hand back the deliveries claimed but not started (due again at once, for whoever runs
        next), finish the requests in flight, and record every result."""
        state = self.state
        ready = [job.delivery_id for queue in state.ready.values() for job in queue]
        state.ready.clear()
        state.ready_count = 0
        if ready:
            await self._db(delivery.deliveries_unclaim, delivery_ids=ready)
        while state.in_flight:
            await asyncio.wait(list(state.in_flight))
        if state.recording is not None:
            await state.recording
        if state.results:
            await self.loop.run_in_executor(self.recorder, partial(delivery.deliveries_record, results=state.results))

    def _start_ready(self) -> None:
        """Start ready deliveries while the dispatcher and their subscription have room."""
        for sub in list(self.state.ready):
            if len(self.state.in_flight) >= self.max_in_flight:
                return
            self._start_next(sub)

    def _start_next(self, sub: int) -> None:
        """Start the subscription's ready deliveries that fit."""
        state = self.state
        queue = state.ready[sub]
        room = min(self.per_target - state.per_sub.get(sub, 0), self.max_in_flight - len(state.in_flight))
        for _ in range(min(room, len(queue))):
            job = queue.popleft()
            state.ready_count -= 1
            state.per_sub[sub] = state.per_sub.get(sub, 0) + 1
            task = asyncio.create_task(self._send(job))
            task.add_done_callback(self._on_finished)
            state.in_flight[task] = job
        if not queue:
            del state.ready[sub]

    def _on_finished(self, task: asyncio.Task) -> None:
        """Take the result, free the room and fill it from the ready queues: the same subscription's
        first (its own slot came free), any other's when it has none."""
        state = self.state
        job = state.in_flight.pop(task)
        sub = job.subscription_id
        state.freed += 1
        state.per_sub[sub] -= 1
        if not state.per_sub[sub]:
            del state.per_sub[sub]
        if not state.results:
            state.first_result_at = time.monotonic()
        state.results.append(task.result())
        if SHUTTING_DOWN.is_set():
            pass  # the loop hands the ready ones back on its way out
        elif sub in state.ready:
            self._start_next(sub)
        elif state.ready_count:
            self._start_ready()
        self.progress.set()

    async def _ask_for_help(self) -> None:
        """More work than room: start another dispatcher if a slot is free (checked once a second)."""
        now = time.monotonic()
        if settings.HOOKS_DISPATCHERS < 2 or now - self.help_asked_at < 1.0:
            return
        self.help_asked_at = now
        try:
            await self.loop.run_in_executor(None, wake.dispatcher_help)
        except Exception as exc:  # Redis or the broker away: this one carries on alone
            logger.warning("could not start another hook dispatcher (%s)", exc)

    def _renew(self, lock: wake.DispatcherLock) -> bool:
        try:
            return lock.renew()
        except Exception:  # Redis away: keep going, the work is in the database
            logger.warning("could not renew the dispatcher lock", exc_info=True)
            return True

    @staticmethod
    def _release(lock: wake.DispatcherLock) -> None:
        try:
            lock.release()
        except Exception:  # Redis away: the slot expires by itself
            logger.warning("could not release the dispatcher lock", exc_info=True)

    @staticmethod
    def _retry_soon() -> bool:
        """Stay up for retries due within a minute rather than wait for the sweeper."""
        due = selectors.next_due_at()
        return due is not None and due <= timezone.now() + timedelta(seconds=60)

    async def _secrets_for(self, account_ids: set[int]) -> None:
        now = time.monotonic()
        stale = {a for a in account_ids if a not in self.secrets or now - self.secrets[a][0] > SECRETS_MAX_AGE}
        if stale:
            found = await self._db(delivery.signing_secrets_ensure, account_ids=stale)
            for account_id, secrets_ in found.items():
                self.secrets[account_id] = (now, secrets_)

    async def _send(self, job: delivery.Job) -> delivery.Result:
        body = job.body.encode()
        headers = signing.delivery_headers(
            secrets_=self.secrets[job.account_id][1], msg_id=job.event_id, timestamp=int(time.time()), body=body
        )
        attempted_at = datetime.now(UTC)
        started = time.perf_counter()
        status_code = None
        response_start = error = ""
        retry_after = None
        try:
            async with self.session.post(job.target_url, data=body, headers=headers, allow_redirects=False) as response:
                status_code = response.status
                if not 200 <= status_code < 300:
                    retry_after = response.headers.get("retry-after")
                response_start = await _response_start(response)
        except aiohttp.ServerTimeoutError as exc:
            status_code, error = None, f"timed out ({type(exc).__name__})"
        except TimeoutError:
            status_code, error = None, f"timed out after {self.session.timeout.total:g} s"
        except aiohttp.ClientError as exc:
            status_code, error = None, f"{type(exc).__name__}: {exc}"[:300]
        except Exception as exc:  # never let one delivery take the loop down; it is retried
            logger.exception("unexpected error delivering %s", job.delivery_id)
            status_code, error = None, f"{type(exc).__name__}: {exc}"[:300]
        return delivery.Result(
            job=job,
            attempted_at=attempted_at,
            status_code=status_code,
            duration_ms=int((time.perf_counter() - started) * 1000),
            response_start=response_start,
            error=error,
            retry_after=retry_after,
        )


async def _response_start(response: aiohttp.ClientResponse) -> str:
    """The first RESPONSE_START_BYTES of the body, as text (PostgreSQL text holds no NUL)."""
    start = bytearray()
    while len(start) < RESPONSE_START_BYTES:
        chunk = await response.content.read(RESPONSE_START_BYTES - len(start))
        if not chunk:
            break
        start += chunk
    return start.decode("utf-8", "replace").replace("\x00", "")
