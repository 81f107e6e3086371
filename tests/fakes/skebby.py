"""Fake Skebby REST API (``/API/v1.0/REST/``): login, send, per-order status, guessed push reports.

It checks the keys of every call as Skebby does (``user_key`` with ``Session_key`` or
``Access_token``), answers 201 with ``result: OK`` and the ``order_id``, keeps each order's
recipient status for ``GET sms/{order_id}`` (404 for an order it never took), and counts the sends
it took per ``order_id`` in :attr:`accepted`, so tests see any duplicate.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.channel_server import FakeProvider, LoopbackCA, Reply, arrange

PREFIX = "/API/v1.0/REST/"


@dataclass
class Order:
    order_id: str
    recipient: str
    text: str
    sender: str
    encoding: str
    status: str = "SENT"
    delivery_date: str = ""


class FakeSkebby(FakeProvider):
    """The fake gateway; one account with ``username``/``password`` or a ``user_key``/``access_token``."""

    name = "skebby"

    def __init__(self, ca: LoopbackCA | None = None, *, username: str = "acme", password: str = "pw-skebby",
                 user_key: str = "UK123", access_token: str = "AT-skebby") -> None:
        super().__init__(ca)
        self.username, self.password = username, password
        self.user_key, self.access_token = user_key, access_token
        self.sessions: set[str] = set()
        self.orders: dict[str, Order] = {}
        self.logins = 0
        self.order_lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return self.base_url + PREFIX.rstrip("/")

    def _authorised(self, headers: dict[str, str]) -> bool:
        if headers.get("user_key") != self.user_key:
            return False
        return headers.get("access_token") == self.access_token or headers.get("session_key") in self.sessions

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        if not path.startswith(PREFIX):
            return Reply.json(404, {"error": "not found"})
        route = path[len(PREFIX):]
        if route == "login" and method in ("GET", "POST"):
            if query.get("username") != self.username or query.get("password") != self.password:
                return Reply(401, b"", "text/plain")
            session_key = secrets.token_hex(8)
            self.sessions.add(session_key)
            self.logins += 1
            return Reply(200, f"{self.user_key};{session_key}".encode(), "text/plain")
        if not self._authorised(headers):
            return Reply(401, b"", "text/plain")
        if route == "status" and method == "GET":
            return Reply.json(200, {"money": None, "sms": [{"type": "GP", "quantity": 1000}], "email": None})
        if route == "sms" and method == "POST":
            return self._send(body)
        if route.startswith("sms/") and method == "GET":
            order = self.orders.get(route[4:])
            if order is None:
                return Reply.json(404, {"error": "order not found"})
            return Reply.json(200, {"recipient_number": 1, "result": "OK", "recipients": [
                {"destination": order.recipient, "status": order.status, "delivery_date": order.delivery_date}]})
        return Reply.json(404, {"error": "not found"})

    def _send(self, body: bytes) -> Reply:
        try:
            request = json.loads(body)
            recipients = request["recipient"]
            text = request["message"]
            message_type = request["message_type"]
        except (ValueError, KeyError, TypeError):
            return Reply.json(400, {"error": "bad request"})
        if message_type not in ("GP", "TI", "SI", "N", "L") or not recipients or not text:
            return Reply.json(400, {"error": "bad parameters"})
        if not all(str(number).startswith("+") and str(number)[1:].isdigit() for number in recipients):
            return Reply.json(400, {"error": "invalid recipient"})
        order_id = str(request.get("order_id") or secrets.token_hex(8))

        def accept() -> Reply:
            with self.order_lock:
                self.orders[order_id] = Order(order_id, recipients[0], text, request.get("sender", ""),
                                              request.get("encoding", "gsm"))
            return Reply.json(201, {"result": "OK", "order_id": order_id, "total_sent": len(recipients),
                                    "remaining_credits": 1000})

        return self.faulty_send(order_id, accept)

    def set_status(self, order_id: str, status: str, when: datetime | None = None) -> None:
        """Move an order to ``status`` (``DLVRD``, ``ERROR``...) as the operator's report would."""
        order = self.orders[order_id]
        order.status = status
        order.delivery_date = (when or datetime(2026, 12, 5, 10, 0, 0)).strftime("%Y%m%d%H%M%S")

    def push_reports(self, url: str, statuses: dict[str, str], *, shuffle: bool = False,
                     duplicate: bool = False) -> list[int]:
        """POST guessed push reports (form ``order_id``, ``status``, ``delivery_date``) to ``url``."""
        results = []
        for order_id, status in arrange(list(statuses.items()), shuffle=shuffle, duplicate=duplicate):
            body = urlencode({"order_id": order_id, "status": status, "delivery_date": "20261205100000"}).encode()
            results.append(self.deliver(url, body=body,
                                        headers={"Content-Type": "application/x-www-form-urlencoded"}))
        return results

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Channel settings that reach this fake with token authentication."""
        values: dict[str, Any] = {"user_key": self.user_key, "access_token": self.access_token,
                                  "api_base_url": self.api_url, "sender": "ACMEnergia", "timeout_seconds": 2.0}
        if self.ca is not None:
            values["ca_bundle"] = str(self.ca.ca_file)
        return values | changes
