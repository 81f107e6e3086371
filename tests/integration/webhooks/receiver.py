"""A webhook receiver on 127.0.0.1 that records each request and responds as the test scripts it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request as the receiver got it."""

    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """The server's address, the requests it received, and the status codes still to return (then 200)."""

    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """Status codes for the next requests, in order; 200 once the list is empty."""
    delays: list[float] = field(default_factory=list)
    """Seconds to wait before responding to the next requests, in order."""
    reject: Callable[[bytes], bool] | None = None
    """Answer 500 to every request whose body this returns true for."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[bytes]:
        with self.lock:
            return [item.body for item in self.received]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """Start the receiver on a free port and stop it on exit."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.received.append(Received(headers={k.lower(): v for k, v in self.headers.items()}, body=body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                if receiver.reject is not None and receiver.reject(body):
                    status = 500
                delay = receiver.delays.pop(0) if receiver.delays else 0.0
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/bolletta/eventi"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
