"""A real HTTP receiver on 127.0.0.1 for hook tests: the path says how it answers.

/ok/...                 200
/status/<code>/...      that status (500, 410, 400, ...)
/retry-after/<s>/...    429 with Retry-After: <s>
/slow/<seconds>/...     200 after sleeping that long
/flaky/<n>/...          500 for the first n requests to that exact path, then 200
/redirect/...           302 to /ok/redirected

`most_in_flight[path]`: the most requests to that path it was answering at once.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: str
    at: float

    def json(self):
        return json.loads(self.body)


class Receiver:
    def __init__(self):
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.flaky_seen: dict[str, int] = {}
        self.in_flight: dict[str, int] = {}
        self.most_in_flight: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                with receiver.lock:
                    receiver.requests.append(
                        Received(
                            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()
                        )
                    )
                    now = receiver.in_flight[self.path] = receiver.in_flight.get(self.path, 0) + 1
                    receiver.most_in_flight[self.path] = max(now, receiver.most_in_flight.get(self.path, 0))
                try:
                    status, extra = receiver.answer(self.path)
                finally:
                    with receiver.lock:
                        receiver.in_flight[self.path] -= 1
                payload = b'{"status":"ok"}' if status < 300 else f'{{"error":"status {status}"}}'.encode()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = _handle
            do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        kind = parts[0]
        if kind == "status":
            return int(parts[1]), {}
        if kind == "retry-after":
            return 429, {"Retry-After": parts[1]}
        if kind == "slow":
            time.sleep(float(parts[1]))
            return 200, {}
        if kind == "redirect":
            return 302, {"Location": self.url("/ok/redirected")}
        if kind == "flaky":
            with self.lock:
                seen = self.flaky_seen[path] = self.flaky_seen.get(path, 0) + 1
            return (500 if seen <= int(parts[1]) else 200), {}
        return 200, {}

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def to(self, path: str, method: str = "POST") -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    def wait_for(self, path: str, count: int = 1, *, method: str = "POST", timeout: float = 20.0) -> list[Received]:
        """The requests to `path` once at least `count` arrived (polls; fails the test after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(path, method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{len(self.to(path, method))} of {count} requests reached {path} in {timeout} s")
