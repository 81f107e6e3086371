"""A fake relay server on 127.0.0.1 for the plugin's tests."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeRelay:
    """Accepts messages with the right bearer key; a repeated ``reference`` is not taken twice."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.messages: dict[str, dict[str, Any]] = {}
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, value: Any) -> None:
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Authorization") != f"Bearer {relay.api_key}":
                    return self._answer(401, {"error": "unauthorised"})
                request = json.loads(body)
                if not str(request.get("to", "")).startswith("+"):
                    return self._answer(400, {"error": "invalid recipient"})
                existing = relay.messages.get(request["reference"])
                if existing is None:
                    existing = {"id": secrets.token_hex(8), "status": "queued", **request}
                    relay.messages[request["reference"]] = existing
                return self._answer(201, {"id": existing["id"]})

            def do_GET(self) -> None:
                if self.headers.get("Authorization") != f"Bearer {relay.api_key}":
                    return self._answer(401, {"error": "unauthorised"})
                found = relay.messages.get(self.path.rsplit("/", 1)[-1])
                if found is None:
                    return self._answer(404, {"error": "not found"})
                return self._answer(200, {"id": found["id"], "status": found["status"]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeRelay:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
