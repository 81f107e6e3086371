"""Fake Satispay GBusiness API: it checks each request's digest and RSA-SHA256 HTTP signature
against the registered public key, creates ``MATCH_CODE`` payments and calls ``callback_url`` with
GET, with no body and no status, as Satispay does. It also lists the shop's payments
(``GET /payments``)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bolletta.gateways.satispay import digest_header, signing_string
from tests.fakes.payment_provider import FakeOrder, FakeProvider, SentNotification
from tests.fakes.tls import FakeRequest, FakeResponse, TestCA

PREFIX = "/g_business/v1"
_SIGNATURE = re.compile(r'(\w+)="([^"]*)"')


def _json(status: int, value: object) -> FakeResponse:
    return FakeResponse(status, json.dumps(value).encode(), {"Content-Type": "application/json"})


class FakeSatispay(FakeProvider):
    """Satispay with one registered key: ``key_id`` and its RSA public key."""

    def __init__(self, ca: TestCA, *, key_id: str, public_key: rsa.RSAPublicKey) -> None:
        super().__init__(ca)
        self.key_id = key_id
        self.public_key = public_key
        self.idempotency: dict[str, FakeResponse] = {}

    @property
    def api_base_url(self) -> str:
        return self.base_url + PREFIX

    def _check_signature(self, request: FakeRequest) -> str | None:
        authorization = request.header("Authorization") or ""
        if not authorization.startswith("Signature "):
            return "missing Signature authorization"
        params = dict(_SIGNATURE.findall(authorization))
        if params.get("keyId") != self.key_id or params.get("algorithm") != "rsa-sha256":
            return "unknown keyId or algorithm"
        if params.get("headers") != "(request-target) host date digest":
            return "unexpected signed headers"
        digest = request.header("Digest") or ""
        if digest != digest_header(request.body):
            return "digest does not match the body"
        text = signing_string(request.method, request.target or request.path, request.header("Host") or "",
                              request.header("Date") or "", digest)
        try:
            self.public_key.verify(base64.b64decode(params.get("signature", "")), text.encode(),
                                   padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return "signature does not verify"
        return None

    def handle(self, request: FakeRequest) -> FakeResponse:
        problem = self._check_signature(request)
        if problem is not None:
            return _json(401, {"code": 34, "message": f"Unauthorized: {problem}", "wlt": uuid.uuid4().hex[:8]})
        path = request.path.removeprefix(PREFIX)
        if path == "/payments" and request.method == "POST":
            key = request.header("Idempotency-Key")
            if key and key in self.idempotency:
                return self.idempotency[key]
            response = self._create(json.loads(request.body))
            if key:
                self.idempotency[key] = response
            return response
        if path == "/payments" and request.method == "GET":
            return self._list(request.query)
        if path.startswith("/payments/") and request.method == "GET":
            order = self.orders.get(path.removeprefix("/payments/"))
            if order is None:
                return _json(404, {"code": 41, "message": "Payment not found"})
            return _json(200, self._payment(order))
        return _json(404, {"code": 404, "message": "not found"})

    def _list(self, query: dict[str, str]) -> FakeResponse:
        """List the shop's payments with ``status`` (``ACCEPTED`` when absent), newest first.

        Satispay documents ``limit`` as 1 to 100."""
        limit = query.get("limit", "20")
        status = query.get("status", "ACCEPTED")
        if status not in ("ACCEPTED", "PENDING", "CANCELED"):
            return _json(400, {"code": 36, "message": "Invalid query parameter status"})
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            return _json(400, {"code": 36, "message": "Invalid query parameter limit"})
        payments = [self._payment(order) for order in reversed(list(self.orders.values()))]
        payments = [payment for payment in payments if payment["status"] == status]
        return _json(200, {"has_more": len(payments) > int(limit), "data": payments[:int(limit)]})

    def _create(self, body: dict[str, object]) -> FakeResponse:
        valid = body.get("flow") == "MATCH_CODE" and body.get("currency") == "EUR"
        if not valid or not isinstance(body.get("amount_unit"), int):
            return _json(400, {"code": 36, "message": "Invalid body"})
        payment_id = str(uuid.uuid4())
        callback = str(body.get("callback_url", "")).replace("{uuid}", payment_id)
        order = FakeOrder(
            key=payment_id, merchant_order_id=str(body.get("external_code", "")),
            amount=Decimal(int(body["amount_unit"])) / 100, currency="EUR",  # type: ignore[call-overload]
            return_url=str(body.get("redirect_url", "")), cancel_url=str(body.get("redirect_url", "")),
            notify_url=callback, data={"insert_date": datetime.now(UTC).isoformat()},
        )
        self.orders[payment_id] = order
        return _json(200, {**self._payment(order), "redirect_url": self.hosted_url(payment_id)})

    def _payment(self, order: FakeOrder) -> dict[str, object]:
        status = {"paid": "ACCEPTED", "declined": "CANCELED", "cancelled": "CANCELED"}.get(order.status, "PENDING")
        return {
            "id": order.key, "code_identifier": f"S6Y-PAY--{order.key.upper()}", "type": "TO_BUSINESS",
            "amount_unit": int(self.reported_amount(order) * 100), "currency": self.reported_currency(order),
            "status": status, "expired": False, "external_code": order.merchant_order_id,
            "insert_date": order.data["insert_date"], "sender": {"type": "CONSUMER"},
            "receiver": {"type": "SHOP"},
        }

    def settle(self, order: FakeOrder) -> str:
        if order.notify_url:
            self.deliver([SentNotification("GET", order.notify_url, {}, b"")])
        return order.return_url
