"""Shared by the hook benchmark and the fault test: processes, a Django setup, the receiver client."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CELERY = str(Path(sys.executable).parent / "celery")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432"


def ensure_database(url: str) -> None:
    """Create the benchmark's own PostgreSQL database when it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def django_setup(redis_url: str, *, database: str) -> None:
    """Django on DATABASE_URL, or on a database of the benchmark's own on the local PostgreSQL."""
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DATABASE_URL", f"{LOCAL_POSTGRES}/{database}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartra_integrations.settings.development")
    os.environ["DEBUG"] = "false"
    os.environ["HOOKS_ALLOW_PRIVATE_TARGETS"] = "true"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (SKIP LOCKED and concurrency need it).")
    ensure_database(os.environ["DATABASE_URL"])
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def wait_ready(process: subprocess.Popen, log: Path, marker: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while marker not in (log.read_text() if log.exists() else ""):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{log} never said {marker!r}")
        time.sleep(0.1)


def start_receiver(port: int, *args: str) -> subprocess.Popen:
    log = ROOT / "var" / f"bench-receiver-{port}.log"
    process = subprocess.Popen(
        [PY, str(ROOT / "bench" / "receiver.py"), "--port", str(port), *args],
        stdout=open(log, "w"),  # noqa: SIM115 (the child keeps it)
        stderr=subprocess.STDOUT,
    )
    wait_ready(process, log, "receiver ready")
    return process


def start_worker(name: str, redis_url: str, *, beat: bool, pool: str = "threads") -> subprocess.Popen:
    log = ROOT / "var" / f"bench-worker-{name}.log"
    env = {**os.environ, "REDIS_URL": redis_url, "DEBUG": "false", "HOOKS_ALLOW_PRIVATE_TARGETS": "true"}
    command = [CELERY, "-A", "kartra_integrations", "worker", "-n", f"{name}@%h", f"--pool={pool}", "--concurrency=4"]
    command += ["--loglevel=WARNING", "--without-gossip", "--without-mingle"]
    if beat:
        command += ["--beat", "--schedule", str(ROOT / "var" / f"bench-beat-{name}")]
    output = open(log, "w")  # noqa: SIM115 (the child keeps it)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    time.sleep(2.5)  # the worker connects to the broker; nothing to wait on at WARNING level
    if process.poll() is not None:
        raise RuntimeError(f"worker {name} exited; see {log}")
    return process


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def receiver_records(port: int) -> list:
    return httpx.get(f"http://127.0.0.1:{port}/stats", timeout=30).json()


def receiver_count(port: int, prefix: str) -> int:
    """(webhook-id, path) pairs answered 2xx under `prefix`: cheaper to poll than every record."""
    return int(httpx.get(f"http://127.0.0.1:{port}/count", params={"prefix": prefix}, timeout=30).text)


def receiver_reset(port: int) -> None:
    httpx.post(f"http://127.0.0.1:{port}/reset", timeout=10)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
