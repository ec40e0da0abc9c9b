"""The dispatcher: one asyncio loop that relays events, claims due deliveries and sends them.

Why not one Celery task per delivery: a prefork pool of blocking requests manages a handful of
deliveries a second against a slow receiver. Here one process keeps hundreds of requests in flight
(httpx transports), caps them per subscription so a slow endpoint holds back nobody else, and
claims and records in bulk from two database threads (Django's ORM is synchronous).

It runs as the Celery task `hooks_dispatch`, started by a wake-up after commit or by the sweeper,
and exits after a quiet spell. Up to HOOKS_DISPATCHERS run at once, each holding a Redis slot
(wake.DispatcherLock): one whose work outgrows its room starts the next, and they share the work
through SKIP LOCKED (relay batches and claims never overlap). Under Celery's prefork pool each is a
process of its own, so each has a core, where one process's httpx saturates one. All state that
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

import httpx
import redis.asyncio as aioredis
from celery.signals import worker_process_init, worker_shutting_down
from celery.worker import state as worker_state
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from kartra_integrations.redis_client import redis_client

from . import delivery, selectors, signing, targets, wake

logger = logging.getLogger(__name__)
# httpx logs every request at INFO: hundreds a second here. The attempt log is the record.
logging.getLogger("httpx").setLevel(logging.WARNING)

CONNECT_TIMEOUT = 3.0
TOTAL_TIMEOUT = 10.0
RESPONSE_START_BYTES = 500
POOL_CONNECTIONS = 8
TIMEOUTS = httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT).as_dict()
SECRETS_MAX_AGE = 10.0  # a rotated secret is used within this many seconds
RELAY_BATCH = 500
CLAIM_BATCH = 500
# While deliveries may be waiting for room, claim again once this many requests have finished (or
# all of them): a claim per finished request would keep the database thread busy.
CLAIM_AFTER_FREED = 64
RECORD_AFTER = 0.2  # seconds a result may wait to be recorded with others
RECORD_BATCH = 200


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

    # --- entry point (synchronous, from the Celery task) -------------------------------------

    def run(self) -> Stats:
        lock = wake.DispatcherLock()
        if not lock.acquire():
            return self.stats
        try:
            asyncio.run(self._main(lock))
        finally:
            lock.release()
        if SHUTTING_DOWN.is_set():
            return self.stats
        # We no longer hold the lock: anything committed from here on starts a new dispatcher, and
        # anything committed before is found by this last look.
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
        # httpx's transports, without its client: none of the client's layers is wanted here (no
        # redirects, no auth, and no cookie jar, which would carry one tenant's cookies to another's
        # endpoint on the same host), and they cost a fifth of every request. Many small pools rather
        # than one big one: httpcore's pool scans every connection on every request, so one pool of
        # hundreds of connections manages fewer requests a second than eight.
        limits = httpx.Limits(max_connections=POOL_CONNECTIONS, max_keepalive_connections=POOL_CONNECTIONS)
        self.transports = [
            targets.guarded_transport(limits=limits) for _ in range(-(-self.max_in_flight // POOL_CONNECTIONS))
        ]
        self.transport_load = [0] * len(self.transports)
        self.urls: dict[str, httpx.URL] = {}  # parsed once per target
        self.secrets: dict[int, tuple[float, list[str]]] = {}
        # What the loop waits for: a wake-up from Redis, or requests finished.
        self.progress = asyncio.Event()
        self.woken = False
        self.finished: collections.deque[asyncio.Task] = collections.deque()
        listener = asyncio.create_task(self._listen()) if self.has_redis else None
        try:
            await self._loop(lock)
        finally:
            if listener:
                listener.cancel()
            for transport in self.transports:
                await transport.aclose()
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
                except asyncio.CancelledError:
                    raise
                except Exception:  # Redis away: the loop's own polling carries on
                    await asyncio.sleep(0.5)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _loop(self, lock: wake.DispatcherLock) -> None:
        in_flight: dict[asyncio.Task, delivery.Job] = {}
        per_sub: dict[int, int] = {}
        results: list[delivery.Result] = []
        recording: asyncio.Future | None = None
        last_relay = last_claim = last_renew = last_sweep = 0.0
        last_activity = first_result_at = time.monotonic()
        want_claim = want_relay = True
        woken = False
        freed = 0  # requests finished since the last claim
        while not SHUTTING_DOWN.is_set():
            now = time.monotonic()
            if now - last_renew > 1.0:
                last_renew = now
                if not await self.loop.run_in_executor(None, self._renew, lock):
                    logger.warning("hook dispatcher lost its lock; stopping")
                    break
            if now - last_sweep > 5.0:
                last_sweep = now
                await self._db(delivery.deliveries_release_expired)
            room = self.max_in_flight - len(in_flight)
            if want_relay or now - last_relay > self.relay_poll:
                last_relay = now
                # One batch at a time, its deliveries claimed as they are made (up to the room we
                # have): sending starts after the first batch, not after the whole backlog.
                batch = await self._db(
                    delivery.events_relay_claim,
                    limit=RELAY_BATCH,
                    claim=max(room, 0),
                    room={sub: self.per_target - n for sub, n in per_sub.items()},
                    default_room=self.per_target,
                )
                want_relay = batch.read == RELAY_BATCH
                self.stats.relayed += batch.recorded
                if batch.deliveries > len(batch.jobs) or (woken and not batch.read):
                    # Deliveries left pending, or a wake-up that was not about new events (a replay).
                    want_claim = True
                if want_relay or batch.deliveries > len(batch.jobs):
                    await self._ask_for_help()
                woken = False
                if batch.jobs:
                    last_activity = time.monotonic()
                    await self._secrets_for({job.account_id for job in batch.jobs})
                    self._start(batch.jobs, in_flight, per_sub)
                room = self.max_in_flight - len(in_flight)
            if room > 0 and (
                (want_claim and (freed >= CLAIM_AFTER_FREED or not in_flight)) or now - last_claim > self.claim_poll
            ):
                last_claim, freed = now, 0
                limit = min(room, CLAIM_BATCH)
                full = {sub for sub, n in per_sub.items() if n >= self.per_target}
                claimed = await self._db(
                    delivery.deliveries_claim,
                    limit=limit,
                    room={sub: self.per_target - n for sub, n in per_sub.items()},
                    default_room=self.per_target,
                )
                self.stats.claims += 1
                # More may be due: rows left for lack of room, a full batch, or subscriptions at
                # their cap that the claim did not look at.
                want_claim = claimed.left > 0 or len(claimed.jobs) == limit or bool(full)
                if claimed.left:
                    await self._ask_for_help()
                if claimed.jobs:
                    last_activity = time.monotonic()
                    await self._secrets_for({job.account_id for job in claimed.jobs})
                    self._start(claimed.jobs, in_flight, per_sub)
            # Results are written together, on the recording thread, one batch at a time.
            if recording is not None and recording.done():
                recording.result()  # a failed write stops the dispatcher; the leases expire
                recording = None
            if (
                results
                and recording is None
                and (len(results) >= RECORD_BATCH or time.monotonic() - first_result_at > RECORD_AFTER)
            ):
                batch, results = results, []
                recording = self.loop.run_in_executor(self.recorder, partial(delivery.deliveries_record, results=batch))
                recording.add_done_callback(lambda _: self.progress.set())
                self.stats.sent += len(batch)
                last_activity = time.monotonic()
            if not in_flight and not results and recording is None and not want_claim and not want_relay:
                idle = time.monotonic() - last_activity
                if time.monotonic() - self.stats.started > self.max_seconds:
                    break
                if idle > self.idle_seconds and not await self._db(self._retry_soon):
                    break
            if not self.finished and not self.woken:
                timeout = min(self.relay_poll, self.claim_poll)
                if results and recording is None:
                    timeout = max(0.001, min(timeout, first_result_at + RECORD_AFTER - time.monotonic()))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self.progress.wait()
            self.progress.clear()
            if self.woken:
                self.woken = False
                want_relay = woken = True
            while self.finished:
                task = self.finished.popleft()
                job = in_flight.pop(task)
                freed += 1
                per_sub[job.subscription_id] -= 1
                if not per_sub[job.subscription_id]:
                    del per_sub[job.subscription_id]
                if not results:
                    first_result_at = time.monotonic()
                results.append(task.result())
        # Leaving with requests in flight (lock lost or time up): finish and record them.
        if in_flight:
            results.extend(await asyncio.gather(*in_flight))
        if recording is not None:
            await recording
        if results:
            await self.loop.run_in_executor(self.recorder, partial(delivery.deliveries_record, results=results))

    def _start(self, jobs: list, in_flight: dict, per_sub: dict) -> None:
        for job in jobs:
            per_sub[job.subscription_id] = per_sub.get(job.subscription_id, 0) + 1
            task = asyncio.create_task(self._send(job))
            task.add_done_callback(self._on_finished)
            in_flight[task] = job

    def _on_finished(self, task: asyncio.Task) -> None:
        self.finished.append(task)
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
            secrets_=self.secrets[job.account_id][1], msg_id=str(job.event_id), timestamp=int(time.time()), body=body
        )
        url = self.urls.get(job.target_url)
        if url is None:
            url = self.urls[job.target_url] = httpx.URL(job.target_url)
        attempted_at = datetime.now(UTC)
        started = time.perf_counter()
        status_code = None
        response_start = error = ""
        retry_after = None
        slot = min(range(len(self.transports)), key=self.transport_load.__getitem__)
        self.transport_load[slot] += 1
        try:
            async with asyncio.timeout(TOTAL_TIMEOUT):
                request = httpx.Request("POST", url, content=body, headers=headers, extensions={"timeout": TIMEOUTS})
                response = await self.transports[slot].handle_async_request(request)
                try:
                    status_code = response.status_code
                    if not 200 <= status_code < 300:
                        retry_after = response.headers.get("retry-after")
                    chunks = bytearray()
                    async for chunk in response.aiter_bytes():
                        chunks += chunk
                        if len(chunks) >= RESPONSE_START_BYTES:
                            break
                    # (PostgreSQL text holds no NUL)
                    response_start = chunks[:RESPONSE_START_BYTES].decode("utf-8", "replace").replace("\x00", "")
                finally:
                    await response.aclose()
        except TimeoutError:
            status_code, error = None, f"timed out after {TOTAL_TIMEOUT:g} s"
        except httpx.TimeoutException as exc:
            status_code, error = None, f"timed out ({type(exc).__name__})"
        except httpx.HTTPError as exc:
            status_code, error = None, f"{type(exc).__name__}: {exc}"[:300]
        except Exception as exc:  # never let one delivery take the loop down; it is retried
            logger.exception("unexpected error delivering %s", job.delivery_id)
            status_code, error = None, f"{type(exc).__name__}: {exc}"[:300]
        finally:
            self.transport_load[slot] -= 1
        duration_ms = int((time.perf_counter() - started) * 1000)
        return delivery.Result(
            job=job,
            attempted_at=attempted_at,
            status_code=status_code,
            duration_ms=duration_ms,
            response_start=response_start,
            error=error,
            retry_after=retry_after,
        )
