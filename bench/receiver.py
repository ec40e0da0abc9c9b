"""A fast loopback HTTP receiver for the hook benchmark and fault test (its own process).

Minimal HTTP/1.1 with keep-alive on asyncio. It records (webhook-id, path, body id, status, arrival
time) for every POST, and answers according to its mode:
    --delay S        answer after S seconds
    --fail-half-first  answer 500 to the first request of half of the (webhook-id, path) pairs,
                     which makes a third of all requests fail with 5xx, every delivery needing at
                     most one retry
GET /stats returns the records as JSON; GET /count?prefix=P the number of (webhook-id, path) pairs
answered 2xx whose path starts with P (cheap to poll while deliveries arrive); POST /reset clears them.
"""

import argparse
import asyncio
import hashlib
import json
import time
from urllib.parse import unquote

RECORDS: list = []
SEEN: set = set()


def answer_status(args, webhook_id: str, path: str) -> int:
    if not args.fail_half_first:
        return 200
    key = (webhook_id, path)
    if key in SEEN:
        return 200
    SEEN.add(key)
    return 500 if hashlib.sha256(f"{webhook_id}{path}".encode()).digest()[0] % 2 == 0 else 200


class Handler(asyncio.Protocol):
    def __init__(self, args):
        self.args = args
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", 0))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.handle(method, path, headers, body)

    def respond(self, status: int, payload: bytes):
        reason = {200: "OK", 500: "Internal Server Error"}.get(status, "OK")
        head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n\r\n"
        self.transport.write(head.encode() + payload)

    def handle(self, method, path, headers, body):
        if method == "GET" and path.startswith("/stats"):
            self.respond(200, json.dumps(RECORDS).encode())
            return
        if method == "GET" and path.startswith("/count"):
            prefix = unquote(path.partition("prefix=")[2])
            count = len({(r[0], r[1]) for r in RECORDS if r[3] == 200 and r[1].startswith(prefix)})
            self.respond(200, str(count).encode())
            return
        if path.startswith("/reset"):
            RECORDS.clear()
            SEEN.clear()
            self.respond(200, b"{}")
            return
        arrived = time.time()
        webhook_id = headers.get("webhook-id", "")
        try:
            body_id = json.loads(body).get("id", "")
        except ValueError:
            body_id = ""
        status = answer_status(self.args, webhook_id, path)
        RECORDS.append([webhook_id, path, body_id, status, arrived])
        if self.args.delay:
            asyncio.get_running_loop().call_later(self.args.delay, self.respond, status, b'{"ok":true}')
        else:
            self.respond(status, b'{"ok":true}')


async def main(args):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Handler(args), "127.0.0.1", args.port, backlog=4096)
    print("receiver ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--fail-half-first", action="store_true")
    asyncio.run(main(parser.parse_args()))
