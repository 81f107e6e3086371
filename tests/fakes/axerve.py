"""Fake Axerve REST API: ``payment/create``, ``payment/detail``, ``check/email`` and the hosted page
``pagam.aspx``.

Answers use Axerve's envelope ``{"error": {"code", "description"}, "payload": {...}}``. The
notification is a GET to ``serverNotificationURL`` with ``a=<shopLogin>`` and ``b=<opaque string>``.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from urllib.parse import urlencode

from tests.fakes.payment_provider import FakeOrder, FakeProvider, SentNotification
from tests.fakes.tls import FakeRequest, FakeResponse, TestCA

PREFIX = "/api/v1"


def _envelope(status: int, code: str, description: str, payload: object = None) -> FakeResponse:
    body = {"error": {"code": code, "description": description}, "payload": payload}
    return FakeResponse(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


class FakeAxerve(FakeProvider):
    """Axerve for one shop login and API key."""

    def __init__(self, ca: TestCA, *, shop_login: str, api_key: str) -> None:
        super().__init__(ca)
        self.shop_login = shop_login
        self.api_key = api_key
        self.by_payment_id: dict[str, FakeOrder] = {}

    @property
    def api_base_url(self) -> str:
        return self.base_url + PREFIX

    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.header("Authorization") != f"apikey {self.api_key}":
            return _envelope(403, "1166", "Invalid ApiKey")
        path = request.path.removeprefix(PREFIX)
        if path == "/payment/create/" and request.method == "POST":
            return self._create(json.loads(request.body))
        if path.startswith("/payment/detail/") and request.method == "GET":
            return self._detail(path.removeprefix("/payment/detail/"))
        if path == "/check/email/" and request.method == "POST":
            return self._check_email(json.loads(request.body or b"{}"))
        return _envelope(404, "1105", "Invalid parameter value")

    def _create(self, body: dict[str, object]) -> FakeResponse:
        if body.get("shopLogin") != self.shop_login or not body.get("shopTransactionID"):
            return _envelope(400, "1105", "Invalid parameter value")
        urls = body.get("responseURLs") or {}
        assert isinstance(urls, dict)
        payment_id = secrets.token_hex(8)
        order = FakeOrder(
            key=payment_id, merchant_order_id=str(body["shopTransactionID"]), amount=Decimal(str(body["amount"])),
            currency=str(body["currency"]), return_url=str(urls.get("buyerOK", "")),
            cancel_url=str(urls.get("buyerKO", "")), notify_url=str(urls.get("serverNotificationURL", "")),
            data={"paymentToken": secrets.token_hex(12), "bankTransactionID": ""},
        )
        self.orders[payment_id] = order
        href = f"{self.hosted_url(payment_id)}?a={self.shop_login}&b={order.data['paymentToken']}"
        return _envelope(200, "0", "request correctly processed", {
            "paymentToken": order.data["paymentToken"], "paymentID": payment_id, "userRedirect": {"href": href},
        })

    def _check_email(self, body: dict[str, object]) -> FakeResponse:
        if body.get("shopLogin") != self.shop_login or not isinstance(body.get("email"), str):
            return _envelope(400, "1105", "Invalid parameter value")
        result = "OK" if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(body["email"])) else "KO"
        return _envelope(200, "0", "request correctly processed", {"result": result})

    def _detail(self, payment_id: str) -> FakeResponse:
        order = self.orders.get(payment_id)
        if order is None:
            return _envelope(400, "1105", "Invalid parameter value")
        result = {"paid": "APPROVED", "declined": "DECLINED", "cancelled": "DECLINED"}.get(order.status, "PENDING")
        return _envelope(200, "0", "request correctly processed", {
            "transactionResult": result, "transactionState": result, "paymentID": payment_id,
            "shopTransactionID": order.merchant_order_id, "bankTransactionID": order.data["bankTransactionID"],
            "authorizationCode": "123456" if result == "APPROVED" else "",
            "amount": f"{self.reported_amount(order):.2f}", "currency": self.reported_currency(order),
            "events": [],
        })

    def settle(self, order: FakeOrder) -> str:
        if order.status == "paid":
            order.data["bankTransactionID"] = str(secrets.randbelow(10**9))
        shop = "OTHERSHOP" if self.misbehaviour.forge else self.shop_login
        separator = "&" if "?" in order.notify_url else "?"
        url = f"{order.notify_url}{separator}{urlencode({'a': shop, 'b': secrets.token_urlsafe(24)})}"
        if order.notify_url:
            self.deliver([SentNotification("GET", url, {}, b"")])
        if order.status == "cancelled":
            return order.cancel_url
        return f"{order.return_url}?{urlencode({'a': self.shop_login, 'b': secrets.token_urlsafe(24)})}"
