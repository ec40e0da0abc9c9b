"""`make bench-api`: the v1 API under load, served by gunicorn on PostgreSQL, driven by wrk.

1. Prepares its own database (BENCH_DB, default ki_bench_api): migrations, an approved account with
   the demo assets, and BENCH_LEADS leads (default 1,000,000) loaded with COPY. A database that
   already holds that many bench leads is reused, so iterating is quick.
2. Starts gunicorn (production settings, DEBUG off) on loopback.
3. Runs wrk (a separate C process, Lua scripts for the request bodies) against GET /healthz (the
   ceiling: a trivial view through the same middleware in the same server), then
   GET /api/v1/leads/search, POST /api/v1/actions/create_lead (a unique email per request),
   POST /api/v1/actions/assign_tag (random existing leads) and the platform command API, POST /api
   with create_lead + assign_tag chained in one form body (a live app made by `create_api_app --live`
   in the bench account; afterwards every lead it created is checked to carry the tag, since /api
   answers its errors with HTTP 200).
4. Prints requests/s, p50 and p99 latency, errors (non-2xx, socket errors) and each action's ratio
   to the ceiling (target >= 1/3).
5. The floor (BENCH_FLOOR=0 skips it): gunicorn again, serving bench/floor_wsgi.py, which answers
   search and assign_tag with the same SQL and Redis scripts but without Django's request handling,
   DRF or the ORM; healthz is measured again in that run. What this machine allows for that work.

Knobs: BENCH_LEADS, BENCH_SECONDS (per scenario, default 15), BENCH_CONNECTIONS (default 16),
BENCH_WORKERS (gunicorn sync workers, default 2 x CPUs + 1), BENCH_PG, BENCH_DB, BENCH_REDIS, BENCH_PORT.
"""

import base64
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEADS = int(os.environ.get("BENCH_LEADS", "1000000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "ki_bench_api")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
OWNER_EMAIL = "bench-owner@example.com"
TARGET_RATIO = 1 / 3
FLOOR_TARGET_RATIO = 0.8  # the API's rate for an action against the floor's for the same action

SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "kartra_integrations.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_URL": f"{PG}/{DB}",
    "REDIS_URL": REDIS,
    "SECURE_SSL_REDIRECT": "False",
    "API_RATE_PER_ACCOUNT": "1000000/s",
    "COMMAND_API_RATE_PER_APP": "1000000",
    "LOG_LEVEL": "ERROR",  # 404/409 warnings would flood the terminal
}


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    os.environ.update(SERVER_ENV)
    create_database()
    api_key, api_password, app_id = prepare()
    auth = "Basic " + base64.b64encode(f"{api_key}:{api_password}".encode()).decode()
    form = urlencode({"app_id": app_id, "api_key": api_key, "api_password": api_password})
    server = start_server("kartra_integrations.wsgi")
    try:
        results = run_scenarios(auth, SCENARIOS, form=form)
    finally:
        server.terminate()
        server.wait(timeout=30)
    results[API_CHAIN]["answer_errors"] = api_chain_untagged()
    report(results)
    if os.environ.get("BENCH_FLOOR", "1") != "0":
        server = start_server("floor_wsgi:application", pythonpath=ROOT / "bench")
        try:
            floor = run_scenarios(auth, FLOOR_SCENARIOS)
        finally:
            server.terminate()
            server.wait(timeout=30)
        report(floor, floor=True)
        report_against_floor(results, floor)


# ---------------------------------------------------------------------------------------------
# Data


def create_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DB}"')


def prepare() -> tuple[str, str]:
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import Account
    from accounts.services import account_create, api_credentials_issue
    from leads.demo import demo_assets_create
    from leads.models import Lead, Tag

    call_command("migrate", verbosity=0)
    account = Account.objects.filter(owner__email=OWNER_EMAIL).first()
    if account is None:
        account = account_create(email=OWNER_EMAIL, name="Bench", password=None)
        Account.objects.filter(pk=account.pk).update(zapier_activated=True)
    if not Tag.objects.filter(account=account).exists():
        demo_assets_create(account=account)
    seeded = Lead.objects.filter(account=account, email__endswith="@seed.example").count()
    if seeded != LEADS:
        seed_leads(account.pk, LEADS)
    issued = api_credentials_issue(account=account)
    out = io.StringIO()
    call_command("create_api_app", "--account", str(account.pk), "--name", "Bench", "--live", stdout=out)
    return issued.api_key, issued.api_password, json.loads(out.getvalue())["app_id"]


def api_chain_untagged() -> int:
    """Leads the POST /api chain created without the tag it assigned: its errors (answered with 200)."""
    from leads.models import Lead, LeadTag

    created = Lead.objects.filter(account__owner__email=OWNER_EMAIL, email__startswith="api-")
    created = created.filter(email__endswith="@bench.example")
    tagged = LeadTag.objects.filter(lead__in=created, tag__name="Customer").count()
    return created.count() - tagged


def seed_leads(account_id: int, count: int) -> None:
    """COPY `count` leads lead<n>@seed.example into the bench account, after emptying every lead table."""
    from django.db import connection
    from django.utils import timezone

    from leads.models import Lead

    started = time.perf_counter()
    print(f"seeding {count:,} leads ...", flush=True)
    with connection.cursor() as cursor:
        # The bench database holds only the bench account: empty the lead tables outright.
        cursor.execute("TRUNCATE leads_lead CASCADE")
    now = timezone.now()
    explicit = {"account_id": account_id, "first_name": "Bench", "date_joined": now, "gdpr_status_date": now}
    columns, fixed = [], []
    for field in Lead._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column in explicit:
            fixed.append(explicit[field.column])
        elif field.null:
            fixed.append(None)
        elif field.has_default():
            fixed.append(field.get_default())
        else:
            fixed.append("")
    email_at = columns.index("email")
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY leads_lead ({', '.join(columns)}) FROM STDIN") as copy:  # noqa: S608 (our columns)
            row = list(fixed)
            for n in range(count):
                row[email_at] = f"lead{n}@seed.example"
                copy.write_row(row)
        cursor.execute("ANALYZE leads_lead")
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)


# ---------------------------------------------------------------------------------------------
# Server and load


def start_server(app: str, pythonpath: Path | None = None) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            app,
            *([f"--pythonpath={pythonpath}"] if pythonpath else []),
            f"--bind=127.0.0.1:{PORT}",
            f"--workers={WORKERS}",
            "--log-level=warning",
            "--access-logfile=-" if os.environ.get("BENCH_ACCESS_LOG") else "--access-logfile=/dev/null",
        ],
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    sys.exit("gunicorn did not come up")


LUA_COMMON = """
wrk.headers["Authorization"] = "{auth}"
wrk.headers["Content-Type"] = "application/json"
local thread_ids = 0
function setup(thread)
  thread_ids = thread_ids + 1
  thread:set("tid", thread_ids)
end
function init(args)
  math.randomseed(os.time() * 1000 + tid)
  counter = 0
end
"""

SCENARIOS = {
    "healthz (ceiling)": ("GET", "/healthz", 'function request() return wrk.format("GET", "/healthz") end'),
    "leads/search": (
        "GET",
        "/api/v1/leads/search",
        "function request()\n  local n = math.random(0, {leads} - 1)\n"
        '  return wrk.format("GET", "/api/v1/leads/search?email=lead" .. n .. "%40seed.example")\nend',
    ),
    "create_lead": (
        "POST",
        "/api/v1/actions/create_lead",
        "function request()\n  counter = counter + 1\n"
        '  local body = string.format(\'{{"email": "new-%s-%d-%d@bench.example", "first_name": "Ann"}}\', '
        '"{run}", tid, counter)\n'
        '  return wrk.format("POST", "/api/v1/actions/create_lead", nil, body)\nend',
    ),
    "assign_tag": (
        "POST",
        "/api/v1/actions/assign_tag",
        "function request()\n  local n = math.random(0, {leads} - 1)\n"
        '  local body = \'{{"email": "lead\' .. n .. \'@seed.example", "tag": "Customer"}}\'\n'
        '  return wrk.format("POST", "/api/v1/actions/assign_tag", nil, body)\nend',
    ),
    # The platform command API: a form body with brackets, as the PHP and Node clients send it.
    "api create+tag": (
        "POST",
        "/api",
        'local headers = {{["Content-Type"] = "application/x-www-form-urlencoded"}}\n'
        "function request()\n  counter = counter + 1\n"
        '  local body = "{form}&lead%5Bemail%5D=api-{run}-" .. tid .. "-" .. counter .. "%40bench.example"'
        ' .. "&lead%5Bfirst_name%5D=Ann&actions%5B0%5D%5Bcmd%5D=create_lead"'
        ' .. "&actions%5B1%5D%5Bcmd%5D=assign_tag&actions%5B1%5D%5Btag_name%5D=Customer"\n'
        '  return wrk.format("POST", "/api", headers, body)\nend',
    ),
}
API_CHAIN = "api create+tag"


# The floor run (bench/floor_wsgi.py): the same requests under /floor/, and the ceiling again.
FLOOR_SCENARIOS = {
    "healthz (ceiling)": SCENARIOS["healthz (ceiling)"],
    **{
        f"floor {name}": (method, f"/floor{path[len('/api/v1') :]}", body.replace("/api/v1/", "/floor/"))
        for name, (method, path, body) in SCENARIOS.items()
        if name in ("leads/search", "assign_tag")
    },
}


def run_scenarios(auth: str, scenarios: dict, *, form: str = "") -> dict[str, dict]:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (_, _, body) in scenarios.items():
            scripts = []
            for phase in ("warmup", "run"):
                # Each wrk run its own tag, so create_lead's emails never repeat across runs.
                script = Path(folder) / f"{re.sub(r'[^a-z]+', '_', name)}_{phase}.lua"
                run = secrets.token_hex(4)
                lua = body.format(leads=LEADS, run=run, form=form)
                script.write_text(LUA_COMMON.format(auth=auth) + lua + "\n")
                scripts.append(script)
            wrk(scripts[0], seconds=3)  # warm-up: connections, caches, worker imports
            results[name] = wrk(scripts[1], seconds=SECONDS)
            print(f"{name:20} {results[name]['rps']:9.1f} req/s", flush=True)
    return results


def wrk(script: Path, *, seconds: int) -> dict:
    output = subprocess.run(
        [
            "wrk",
            "--threads=1",
            f"--connections={CONNECTIONS}",
            f"--duration={seconds}s",
            "--timeout=10s",
            "--latency",
            f"--script={script}",
            f"http://127.0.0.1:{PORT}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(output)


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def parse_wrk(output: str) -> dict:
    if "Requests/sec" not in output or "Latency Distribution" not in output:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in sockets.groups()) if sockets else 0,
    }


def report(results: dict[str, dict], *, floor: bool = False) -> None:
    ceiling = results["healthz (ceiling)"]["rps"]
    print()
    if floor:
        print("floor: the same SQL and Redis scripts without Django's request handling, DRF or the ORM")
    print(f"{LEADS:,} leads in the account; gunicorn {WORKERS} sync workers; wrk 1 thread, {CONNECTIONS} connections,")
    print(f"{SECONDS} s per scenario on loopback; {os.cpu_count()} CPUs shared by wrk, gunicorn, PostgreSQL and Redis.")
    print(f"{'scenario':20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7} {'ratio':>6}")
    failed = False
    for name, result in results.items():
        ratio = result["rps"] / ceiling
        errors = result["non_2xx"] + result["socket_errors"] + result.get("answer_errors", 0)
        mark = ""
        if name != "healthz (ceiling)" and (ratio < TARGET_RATIO or errors):
            mark, failed = "  below target" if ratio < TARGET_RATIO else "  errors", True
        print(
            f"{name:20} {result['rps']:9.1f} {result['p50']:8.2f} {result['p99']:8.2f} {result['requests']:9d} "
            f"{errors:7d} {ratio:6.2f}{mark}"
        )
    verdict = "MISSED" if failed else "MET"
    label = "the floor's own" if floor else "target:"
    print(f"{label} each action >= {TARGET_RATIO:.2f} of the ceiling's requests/s, no errors -> {verdict}")


def report_against_floor(results: dict[str, dict], floor: dict[str, dict]) -> None:
    """Each floored action's API rate over its floor's: what Django, DRF and the ORM leave of it."""
    ratios = {name: results[name]["rps"] / floor[f"floor {name}"]["rps"] for name in ("leads/search", "assign_tag")}
    listed = ", ".join(f"{name} {ratio:.2f}" for name, ratio in ratios.items())
    verdict = "MET" if min(ratios.values()) >= FLOOR_TARGET_RATIO else "MISSED"
    print(f"API over its floor (target >= {FLOOR_TARGET_RATIO}): {listed} -> {verdict}")


if __name__ == "__main__":
    main()
