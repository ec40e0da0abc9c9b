"""make bench-hooks: hook delivery speed through the real machinery (PostgreSQL, Redis, a Celery worker).

Prints deliveries per second and commit -> arrival percentiles for the three scenarios:
  1. a receiver that answers at once (target >= 0.6 of the best bare async client loop posting the
     same payloads: httpx and aiohttp in several shapes)
  2. a receiver that answers after 200 ms (target >= 3,000 deliveries/s)
  3. 100 events a second, one transaction each (target p95 commit -> arrival <= 25 ms)
Uses DATABASE_URL (default: its own database ki_bench_hooks on the local PostgreSQL) and REDIS_URL
(default redis://127.0.0.1:6379/11); everything else runs on loopback.
"""

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    django_setup,
    free_port,
    percentile,
    receiver_count,
    receiver_records,
    receiver_reset,
    start_receiver,
    start_worker,
    stop,
)

# 5,000 events, 10,000 deliveries: long enough that the fixed start (the wake-up, the first relay,
# a dispatcher's connections) is a small part of the figure; it is printed on its own as well.
EVENTS_THROUGHPUT = int(os.environ.get("BENCH_EVENTS", 5000))
RATE_EVENTS_PER_SECOND = 100
RATE_SECONDS = int(os.environ.get("BENCH_RATE_SECONDS", 15))


def make_events(leads, tag, count: int) -> None:
    """`count` events through the leads services (assign, then unassign, the same tag)."""
    from leads.services import lead_tag_assign, lead_tag_unassign

    for i in range(count):
        lead = leads[(i // 2) % len(leads)]
        if i % 2 == 0:
            lead_tag_assign(lead=lead, tag=tag)
        else:
            lead_tag_unassign(lead=lead, tag=tag)


def wait_for_arrivals(port: int, path_prefix: str, expected: int, timeout: float = 300) -> list:
    """The records of `expected` deliveries under `path_prefix`, once they have all arrived.

    Polls a count, not the records: the poll runs on the same two cores as what it measures."""
    deadline = time.monotonic() + timeout
    while (arrived := receiver_count(port, path_prefix)) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {arrived} of {expected} deliveries arrived at {path_prefix}")
        time.sleep(0.1)
    return [r for r in receiver_records(port) if r[1].startswith(path_prefix) and r[3] == 200]


async def bare_httpx(url: str, bodies: list[bytes], concurrency: int, per_pool: int, layer: str) -> float:
    """httpx posting the bodies, nothing else (no database, no signing, no log).

    `layer` "client" posts with httpx.AsyncClient; "transport" calls its transport directly (no
    client layers: redirects, auth, cookies), with the URL parsed once.
    """
    import httpx

    queue = list(bodies)
    limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
    transports = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(max(1, concurrency // per_pool))]
    clients = [httpx.AsyncClient(transport=transport, timeout=10) for transport in transports]
    parsed_url = httpx.URL(url)
    timeouts = httpx.Timeout(10).as_dict()

    async def client_worker(i):
        client = clients[i % len(clients)]
        while queue:
            await client.post(url, content=queue.pop(), headers={"content-type": "application/json"})

    async def transport_worker(i):
        transport = transports[i % len(transports)]
        while queue:
            request = httpx.Request(
                "POST",
                parsed_url,
                content=queue.pop(),
                headers={"content-type": "application/json"},
                extensions={"timeout": timeouts},
            )
            response = await transport.handle_async_request(request)
            await response.aread()
            await response.aclose()

    worker = client_worker if layer == "client" else transport_worker
    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    rate = len(bodies) / (time.perf_counter() - started)
    for client in clients:
        await client.aclose()
    return rate


async def bare_aiohttp(url: str, bodies: list[bytes], concurrency: int, per_pool: int, sessions: int) -> float:
    """aiohttp posting the bodies: `sessions` ClientSessions, each over a connector of `per_pool`
    connections, `concurrency` requests in flight. The dispatcher's own session (its SSRF guard
    included; private targets allowed), so the baseline pays what the dispatcher's client pays."""
    from zaphooks import targets

    queue = list(bodies)
    clients = [targets.guarded_session(allow_private=True, limit=per_pool) for _ in range(sessions)]

    async def worker(i):
        session = clients[i % len(clients)]
        while queue:
            async with session.post(url, data=queue.pop(), headers={"content-type": "application/json"}) as response:
                await response.read()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    rate = len(bodies) / (time.perf_counter() - started)
    for session in clients:
        await session.close()
    return rate


# The best of these shapes is the machine's limit, whatever the library: (name, function, arguments).
BARE_SHAPES = [
    ("httpx client, 64 in flight (8 per connection pool)", bare_httpx, (64, 8, "client")),
    ("httpx transport, 64 in flight (8 per connection pool)", bare_httpx, (64, 8, "transport")),
    ("httpx transport, 128 in flight (8 per connection pool)", bare_httpx, (128, 8, "transport")),
    ("aiohttp, 64 in flight, 1 session (limit 8)", bare_aiohttp, (64, 8, 1)),
    ("aiohttp, 128 in flight, 1 session (limit 16)", bare_aiohttp, (128, 16, 1)),
    ("aiohttp, 128 in flight, 1 session (limit 32)", bare_aiohttp, (128, 32, 1)),
    ("aiohttp, 128 in flight, 4 sessions (limit 8 each)", bare_aiohttp, (128, 8, 4)),
    ("aiohttp, 128 in flight, 1 session (limit 128)", bare_aiohttp, (128, 128, 1)),
]


def throughput_run(account, leads, tag, port: int, prefix: str, label: str) -> tuple[float, list]:
    """All events in one transaction; rate = deliveries / (last arrival - commit)."""
    from django.db import transaction

    from zaphooks import services

    for n in range(2):
        services.endpoint_create(
            account=account, target_url=f"http://127.0.0.1:{port}{prefix}{n}", events=["assign_tag", "unassign_tag"]
        )
    committed_at = []
    with transaction.atomic():
        make_events(leads, tag, EVENTS_THROUGHPUT)
        # The clock starts at commit, before the wake-up (on_commit callbacks run in order).
        transaction.on_commit(lambda: committed_at.append(time.time()))
        transaction.on_commit(services.events_committed)
    committed = committed_at[0]
    records = wait_for_arrivals(port, prefix, EVENTS_THROUGHPUT * 2)
    first, last = min(r[4] for r in records), max(r[4] for r in records)
    rate = EVENTS_THROUGHPUT * 2 / (last - committed)
    latencies = [(r[4] - committed) * 1000 for r in records]
    print(
        f"{label}: {EVENTS_THROUGHPUT * 2} deliveries in {last - committed:.2f} s = {rate:.0f} deliveries/s "
        f"(first arrival {1000 * (first - committed):.0f} ms after commit; "
        f"{(EVENTS_THROUGHPUT * 2 - 1) / (last - first):.0f}/s from first to last arrival)"
    )
    return rate, latencies


def vacuum_outbox() -> None:
    """Stand in for autovacuum where it is off (as on the shared development cluster): every relayed
    event leaves a dead row in the relay's partial index, which production's autovacuum (tuned for
    the table by leads migration 0004) cleans every 5,000 rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] == "on":
            return
        for table in ("leads_leadevent", "zaphooks_delivery", "zaphooks_hookevent", "zaphooks_deliveryattempt"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def rate_run(account, leads, tag, port: int, *, hook: bool) -> list[float]:
    """One event per transaction at a steady 100 a second; latency = arrival - commit, per event.

    Without the hook, lead-event commits do not wake the dispatcher either (HOOKS_WAKE_ON_COMMIT
    off in this process): the relay's own polling and the sweeper find the events."""
    from django.db import transaction
    from django.test import override_settings

    from leads.models import LeadEvent
    from leads.services import lead_tag_assign, lead_tag_unassign
    from zaphooks import services

    prefix = f"/rate-{'hook' if hook else 'poll'}/"
    services.endpoint_create(
        account=account, target_url=f"http://127.0.0.1:{port}{prefix}", events=["assign_tag", "unassign_tag"]
    )
    commits: dict[str, float] = {}
    total = RATE_EVENTS_PER_SECOND * RATE_SECONDS
    started = time.monotonic()
    for i in range(total):
        pause = started + i / RATE_EVENTS_PER_SECOND - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        lead = leads[i % len(leads)]
        assigning = not lead.tags_have
        with override_settings(HOOKS_WAKE_ON_COMMIT=hook), transaction.atomic():
            (lead_tag_assign if assigning else lead_tag_unassign)(lead=lead, tag=tag)
        commits_at = time.time()
        lead.tags_have = assigning
        event_id = LeadEvent.objects.filter(lead=lead).order_by("-occurred_at").values_list("id", flat=True).first()
        commits[str(event_id)] = commits_at
    records = wait_for_arrivals(port, prefix, total)
    first_arrival: dict[str, float] = {}
    for webhook_id, _path, _body_id, _status, at in records:
        first_arrival[webhook_id] = min(at, first_arrival.get(webhook_id, at))
    return [(first_arrival[i] - commits[i]) * 1000 for i in commits]


def main() -> None:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/11")
    django_setup(redis_url, database="ki_bench_hooks")
    import redis

    # Its own Redis database: a dispatcher slot left by an earlier run's worker would hold back
    # this run's wake-ups until it expires.
    redis.Redis.from_url(redis_url).flushdb()
    from accounts.services import account_create
    from approvals.services import account_approve_by_operator
    from leads.models import Tag
    from leads.selectors import event_payload
    from leads.services import lead_create
    from zaphooks.models import Subscription

    account = account_create(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", name="Hook bench", password=None)
    account_approve_by_operator(account=account)  # hooks deliver only for accounts with Zapier access
    tag = Tag.objects.create(account=account, name="Bench")
    leads = [
        lead_create(account=account, email=f"lead{i}@bench.example.com", first_name=f"Lead {i}") for i in range(40)
    ]
    for lead in leads:
        lead.tags_have = False

    fast_port, slow_port = free_port(), free_port()
    fast = start_receiver(fast_port)
    slow = start_receiver(slow_port, "--delay", "0.2")
    # The prefork pool, as deployed: each hook dispatcher a process of its own.
    worker = start_worker("bench", redis_url, beat=True, pool="prefork")
    try:
        # The payloads the baseline posts: real delivery bodies of this account.
        from django.db import transaction

        with transaction.atomic():
            make_events(leads, tag, 2)
        import json

        from leads.models import LeadEvent

        body = json.dumps(event_payload(LeadEvent.objects.filter(account=account).first()), separators=(",", ":"))
        bodies = [body.encode()] * (EVENTS_THROUGHPUT * 2)
        # The best of a few shapes and clients, so the baseline is the machine's limit and not a strawman.
        url = f"http://127.0.0.1:{fast_port}/baseline"
        rates = {}
        for name, bare_loop, arguments in BARE_SHAPES:
            rates[name] = asyncio.run(bare_loop(url, bodies, *arguments))
            print(f"bare async loop, {name}: {rates[name]:.0f} requests/s")
        best = max(rates, key=rates.__getitem__)
        baseline = rates[best]
        print(f"payload {len(body)} bytes")
        receiver_reset(fast_port)

        vacuum_outbox()
        rate1, lat1 = throughput_run(account, leads, tag, fast_port, "/fast/", "1. receiver answers at once")
        Subscription.objects.filter(account=account).update(state="deleted")
        vacuum_outbox()
        rate2, lat2 = throughput_run(account, leads, tag, slow_port, "/slow/", "2. receiver answers after 200 ms")
        Subscription.objects.filter(account=account).update(state="deleted")
        receiver_reset(fast_port)
        vacuum_outbox()
        lat3 = rate_run(account, leads, tag, fast_port, hook=True)
        Subscription.objects.filter(account=account).update(state="deleted")
        vacuum_outbox()
        lat3_poll = rate_run(account, leads, tag, fast_port, hook=False)
        Subscription.objects.filter(account=account).update(state="deleted")
    finally:
        stop(worker)
        stop(fast)
        stop(slow)

    def pcts(values):
        return " / ".join(f"p{p} {percentile(values, p):.1f} ms" for p in (50, 95, 99))

    print()
    print("=== results ===")
    print(f"baseline: the best bare client, {best}: {baseline:.0f} requests/s")
    print(
        f"1. answers at once : {rate1:.0f} deliveries/s; ratio to baseline {rate1 / baseline:.2f} (target >= 0.6: "
        f"{rate1 / baseline / 0.6:.2f}x target); commit->arrival {pcts(lat1)}"
    )
    print(
        f"2. answers in 200ms: {rate2:.0f} deliveries/s (target >= 3000: {rate2 / 3000:.2f}x target); "
        f"commit->arrival {pcts(lat2)}"
    )
    print(
        f"3. 100 events/s, leads on_commit hook: {pcts(lat3)} (target p95 <= 25 ms: "
        f"{25 / percentile(lat3, 95):.2f}x headroom)"
    )
    print(f"3b. 100 events/s, no wake-up on commit (relay polls every second): {pcts(lat3_poll)}")


if __name__ == "__main__":
    main()
