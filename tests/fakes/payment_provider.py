"""What the payment provider fakes share: the hosted page, notifications and misbehaviour knobs.

Each fake (``paypal``, ``nexi``, ``axerve``, ``satispay``) serves its provider's API over loopback
TLS and a hosted page at ``/hosted/<key>``. Posting ``outcome=pay|fail|cancel`` to the hosted page
settles the order, sends the provider's server-to-server notification to the platform and
redirects the browser as the provider does. :class:`Misbehaviour` makes the fake late, slow,
duplicating, out of order, forging or reporting a wrong amount.
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qsl

import httpx

from tests.fakes.tls import FakeRequest, FakeResponse, HttpsServer, TestCA


@dataclass
class Misbehaviour:
    """Ways a fake departs from the happy path; reset with :meth:`FakeProvider.behave`."""

    api_delay_seconds: float = 0.0
    """Sleep before answering each API call (past the plugin's timeout, a timeout)."""
    api_status: int | None = None
    """Answer every API call with this status and an error body."""
    notify: bool = True
    """Send the server-to-server notification at all."""
    notify_copies: int = 1
    """How many times each notification is sent (duplicates)."""
    notify_delay_seconds: float = 0.0
    """Send notifications in the background after this delay (late, after the browser returned)."""
    amount_delta: Decimal = Decimal(0)
    """Added to the amount the provider reports in notifications and status answers."""
    currency: str | None = None
    """Currency reported instead of the order's."""
    forge: bool = False
    """Sign or MAC notifications with a key that is not the merchant's."""
    out_of_order: bool = False
    """After the final notification, send a stale earlier one (pending or failed)."""


@dataclass
class SentNotification:
    """A notification the fake sent, kept so tests can replay it byte for byte."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int = 0


@dataclass
class FakeOrder:
    """An order as the fake provider stores it."""

    key: str
    """The fake's own id of the order (the id in the hosted page URL)."""
    merchant_order_id: str
    amount: Decimal
    currency: str
    return_url: str
    cancel_url: str
    notify_url: str
    status: str = "created"
    """``created``, ``paid``, ``declined`` or ``cancelled``."""
    data: dict[str, object] = field(default_factory=dict)


class FakeProvider:
    """Base of the provider fakes: serving, recording, hosted page and notification delivery."""

    def __init__(self, ca: TestCA) -> None:
        self.ca = ca
        self.misbehaviour = Misbehaviour()
        self.orders: dict[str, FakeOrder] = {}
        self.requests: list[FakeRequest] = []
        self.sent: list[SentNotification] = []
        self.lock = threading.Lock()
        self.server = HttpsServer(ca, self._dispatch)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def behave(self, **changes: object) -> None:
        """Replace the misbehaviour knobs (no argument restores the happy path)."""
        self.misbehaviour = Misbehaviour(**changes)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.server.stop()

    def hosted_url(self, key: str) -> str:
        return f"{self.base_url}/hosted/{key}"

    # -- request handling --------------------------------------------------------------------------

    def _dispatch(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            self.requests.append(request)
        if request.path.startswith("/hosted/"):
            return self._hosted(request, request.path.removeprefix("/hosted/"))
        if self.misbehaviour.api_delay_seconds:
            time.sleep(self.misbehaviour.api_delay_seconds)
        if self.misbehaviour.api_status is not None:
            return FakeResponse(self.misbehaviour.api_status, b'{"error": "forced by the test"}',
                                {"Content-Type": "application/json"})
        return self.handle(request)

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one API call; subclasses implement the provider's endpoints."""
        raise NotImplementedError

    def _hosted(self, request: FakeRequest, key: str) -> FakeResponse:
        order = self.orders.get(key)
        if order is None:
            return FakeResponse(404, b"unknown order")
        if request.method == "GET":
            page = (
                f"<html><body><h1>Fake payment</h1><p>{html.escape(order.merchant_order_id)} "
                f"{order.amount} {order.currency}</p><form method='post'>"
                "<button name='outcome' value='pay'>Pay</button>"
                "<button name='outcome' value='fail'>Decline</button>"
                "<button name='outcome' value='cancel'>Cancel</button></form></body></html>"
            )
            return FakeResponse(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
        outcome = dict(parse_qsl(request.body.decode())).get("outcome", "cancel")
        order.status = {"pay": "paid", "fail": "declined"}.get(outcome, "cancelled")
        redirect = self.settle(order)
        return FakeResponse(303, b"", {"Location": redirect})

    def settle(self, order: FakeOrder) -> str:
        """Record the outcome, send the notifications and return where the browser goes next."""
        raise NotImplementedError

    # -- notifications -------------------------------------------------------------------------------

    def reported_amount(self, order: FakeOrder) -> Decimal:
        return order.amount + self.misbehaviour.amount_delta

    def reported_currency(self, order: FakeOrder) -> str:
        return self.misbehaviour.currency or order.currency

    def deliver(self, notifications: list[SentNotification]) -> None:
        """Send notifications as the misbehaviour says: some copies, maybe late, maybe not at all."""
        if not self.misbehaviour.notify:
            with self.lock:
                self.sent.extend(notifications)
            return
        copies = [item for item in notifications for _ in range(self.misbehaviour.notify_copies)]
        if self.misbehaviour.notify_delay_seconds:
            delay = self.misbehaviour.notify_delay_seconds
            threading.Thread(target=lambda: (time.sleep(delay), self._send_all(copies)), daemon=True).start()
        else:
            self._send_all(copies)

    def _send_all(self, notifications: list[SentNotification]) -> None:
        for item in notifications:
            self.send(item)

    def send(self, notification: SentNotification) -> httpx.Response:
        """Send (or re-send) one notification to the platform and record it."""
        response = httpx.request(notification.method, notification.url, headers=notification.headers,
                                 content=notification.body or None, timeout=30)
        notification.status = response.status_code
        with self.lock:
            self.sent.append(notification)
        return response
