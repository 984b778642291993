"""What the webhook tests share (no tests here): a real HTTP receiver on
loopback and an independent Standard Webhooks verifier.

The verifier is written from the specification (standardwebhooks.com), not
from partners.services.signing, so a mistake in our signing cannot be
mirrored by the check."""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def verify_standard_webhook(*, secret: str, headers: dict[str, str], body: bytes) -> bool:
    """True when any ``v1`` signature of ``webhook-signature`` matches."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if "." in msg_id or not timestamp.isdigit():
        return False
    key = base64.b64decode(secret[len("whsec_") :])
    expected = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256).digest()
    for item in headers["webhook-signature"].split(" "):
        version, _, value = item.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(value), expected):
            return True
    return False


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers POSTs with the next status of ``script`` (the last one repeats),
    records every request, and counts TCP connections."""

    script: list[int]
    extra_headers: dict[int, dict[str, str]] = field(default_factory=dict)
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    connections: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self, received: Received) -> int:
        with self.lock:
            self.requests.append(received)
            status = self.script[min(len(self.answered), len(self.script) - 1)]
            self.answered.append(status)
            return status

    @property
    def successes(self) -> list[Received]:
        return [r for r, status in zip(self.requests, self.answered, strict=True) if 200 <= status < 300]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def setup(self) -> None:
            with receiver.lock:
                receiver.connections += 1
            super().setup()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            status = receiver.next_status(received)
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            self.send_response(status)
            for name, value in receiver.extra_headers.get(status, {}).items():
                self.send_header(name, value)
            answer = json.dumps({"received": received.headers.get("webhook-id")}).encode()
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running_receiver(script: list[int], **kwargs: Any) -> Iterator[Receiver]:
    receiver = Receiver(script=script, **kwargs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/gateway"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def wait_for(condition: Callable[[], object], timeout_s: float) -> None:
    """Polls ``condition`` every 0.1 s until it is true; fails after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")
