"""make faults: 2,000+ events through several subscriptions while things break; nothing may be lost.

A receiver fails a third of all requests with 5xx (the first request of half the deliveries), one
Celery worker is killed with SIGKILL mid-run, and Redis (a private redis-server on 127.0.0.1:6390,
started here, so the shared one is untouched) is restarted mid-run. Events are written through the
leads services only (no wake-up hook): the relay and the sweeper must find them. Afterwards every
event must have arrived (2xx) at every matching subscription, and every request must carry its
event's id as webhook-id (so duplicates share it). Exits non-zero otherwise, and at once if worker B
exits: a worker must ride out a Redis restart, nothing here restarts it.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, django_setup, free_port, receiver_records, start_receiver, start_worker, stop  # noqa: E402

EVENTS = int(os.environ.get("FAULT_EVENTS", 2100))
REDIS_PORT = int(os.environ.get("FAULT_REDIS_PORT", 6390))
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"


def say(text: str) -> None:
    print(text, flush=True)


def redis_start() -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=open(ROOT / "var" / "faults-redis.log", "a"),  # noqa: SIM115 (the child keeps it)
        stderr=subprocess.STDOUT,
    )
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True).stdout.strip() == b"PONG":
            return process
        time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def main() -> None:
    redis = redis_start()
    django_setup(REDIS_URL, database="ki_faults")
    from django.db.models import Count

    from accounts.services import account_create
    from approvals.services import account_approve_by_operator
    from leads.models import LeadEvent, Tag
    from leads.services import lead_create, lead_tag_assign, lead_tag_unassign
    from zaphooks import services
    from zaphooks.models import Delivery, DeliveryState

    port = free_port()
    receiver = start_receiver(port, "--fail-half-first")
    accounts, expected_paths = [], {}
    for n in range(2):
        account = account_create(email=f"faults-{uuid.uuid4().hex[:8]}@example.com", name=f"Faults {n}", password=None)
        account_approve_by_operator(account=account)  # hooks deliver only for accounts with Zapier access
        vip, other = Tag.objects.create(account=account, name="VIP"), Tag.objects.create(account=account, name="Other")
        leads = [lead_create(account=account, email=f"l{i}@faults.example.com") for i in range(20)]
        base = f"http://127.0.0.1:{port}/a{account.pk}"
        services.subscription_create(account=account, event="assign_tag", target_url=f"{base}/zap-all")
        services.subscription_create(
            account=account, event="assign_tag", target_url=f"{base}/zap-vip", filter={"tag": "VIP"}
        )
        services.endpoint_create(account=account, target_url=f"{base}/endpoint", events=["assign_tag", "unassign_tag"])
        expected_paths[account.pk] = {
            "all": f"/a{account.pk}/zap-all",
            "vip": f"/a{account.pk}/zap-vip",
            "endpoint": f"/a{account.pk}/endpoint",
            "vip_id": vip.pk,
        }
        accounts.append((account, leads, [vip, other]))

    worker_a = start_worker("faults-a", REDIS_URL, beat=False)
    worker_b = None
    written = 0

    has_tag: set[tuple[int, int]] = set()
    broken: list[BaseException] = []

    def write_events():
        nonlocal written
        try:
            for i in range(EVENTS):
                account, leads, tags = accounts[i % 2]
                lead, tag = leads[(i // 2) % 20], tags[(i // 40) % 2]
                if (lead.pk, tag.pk) in has_tag:
                    lead_tag_unassign(lead=lead, tag=tag)
                    has_tag.discard((lead.pk, tag.pk))
                else:
                    lead_tag_assign(lead=lead, tag=tag)
                    has_tag.add((lead.pk, tag.pk))
                written += 1
                time.sleep(0.004)
        except BaseException as error:  # the main thread reports it and stops
            broken.append(error)
            written = EVENTS
            raise

    writer = threading.Thread(target=write_events)
    started = time.monotonic()
    writer.start()
    while written < EVENTS // 4:
        time.sleep(0.1)
    worker_b = start_worker("faults-b", REDIS_URL, beat=True)
    while written < EVENTS // 3:
        time.sleep(0.1)
    say(f"[{time.monotonic() - started:5.1f} s] {written} events written: SIGKILL worker A (pid {worker_a.pid})")
    worker_a.send_signal(signal.SIGKILL)
    while written < 2 * EVENTS // 3:
        time.sleep(0.1)
    say(f"[{time.monotonic() - started:5.1f} s] {written} events written: restarting Redis")
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True)
    redis.wait(timeout=10)
    time.sleep(1.0)
    redis = redis_start()
    writer.join()
    if broken:
        sys.exit(f"writing events failed: {broken[0]!r}")
    say(f"[{time.monotonic() - started:5.1f} s] all {written} events written; waiting for delivery")

    account_ids = [a.pk for a, _, _ in accounts]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if worker_b.poll() is not None:
            # A worker must ride out the Redis restart (see kartra_integrations.celery.BrokerConnection);
            # nothing restarts it here.
            stop(receiver)
            subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True)
            sys.exit(f"FAULT TEST FAILED: worker B exited ({worker_b.returncode}); see var/bench-worker-faults-b.log")
        open_ = Delivery.objects.filter(
            subscription__account_id__in=account_ids, state__in=[DeliveryState.PENDING, DeliveryState.SENDING]
        ).count()
        relayed = Delivery.objects.filter(subscription__account_id__in=account_ids).count()
        if open_ == 0 and relayed:
            break
        time.sleep(1)
    # A last sweep's worth, so events relayed late are included.
    time.sleep(6)
    say(f"[{time.monotonic() - started:5.1f} s] queue drained")

    expected: set[tuple[str, str]] = set()
    events = LeadEvent.objects.filter(account_id__in=account_ids)
    for event in events:
        paths = expected_paths[event.account_id]
        expected.add((str(event.pk), paths["endpoint"]))
        if event.action == "assign_tag":
            expected.add((str(event.pk), paths["all"]))
            if event.details["tag"]["tag_id"] == paths["vip_id"]:
                expected.add((str(event.pk), paths["vip"]))
    records = receiver_records(port)
    ours = [r for r in records if any(r[1].startswith(f"/a{pk}/") for pk in account_ids)]
    ok = {(r[0], r[1]) for r in ours if r[3] == 200}
    missing = expected - ok
    mismatched = [r for r in ours if r[0] != r[2]]
    failed_requests = sum(1 for r in ours if r[3] >= 500)
    ok_counts = Counter((r[0], r[1]) for r in ours if r[3] == 200)
    duplicates = sum(1 for n in ok_counts.values() if n > 1)
    by_state = dict(
        Delivery.objects.filter(subscription__account_id__in=account_ids).values_list("state").annotate(n=Count("id"))
    )

    stop(receiver)
    for worker in (worker_a, worker_b):
        if worker:
            stop(worker)
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True)

    print()
    print(f"events written              : {events.count()}")
    print(f"expected (event, target)    : {len(expected)} over 6 subscriptions")
    print(
        f"requests received           : {len(ours)}"
        f" ({failed_requests} answered 5xx = {failed_requests / len(ours):.0%})"
    )
    print(f"delivered (2xx) pairs       : {len(ok & expected)}")
    print(f"missing                     : {len(missing)}")
    print(f"pairs delivered (2xx) twice+ : {duplicates}")
    print(f"webhook-id != body id       : {len(mismatched)}")
    print(f"deliveries by state         : {by_state}")
    if missing or mismatched or len(expected) == 0:
        sys.exit("FAULT TEST FAILED")
    print("FAULT TEST PASSED: every event reached every matching subscription; duplicates share webhook-id")


if __name__ == "__main__":
    main()
