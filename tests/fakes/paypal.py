"""Fake PayPal REST API: OAuth2 client credentials, Orders v2 with ``PayPal-Request-Id``
idempotency, captures, signed webhooks and the signing certificate they point to.

Webhooks are signed as PayPal signs them: RSA-SHA256 over ``<transmission id>|<transmission
time>|<webhook id>|<CRC-32 of the body>``, with a certificate issued by the test CA for
``messageverificationcerts.paypal.com`` served at ``/v1/notifications/certs/<id>``.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import threading
import uuid
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.payment_provider import FakeOrder, FakeProvider, SentNotification
from tests.fakes.tls import FakeRequest, FakeResponse, TestCA

CERT_NAME = "messageverificationcerts.paypal.com"
CERT_ID = "CERT-360caa42-fca2a594-1d93a270"


def _json(status: int, value: object) -> FakeResponse:
    return FakeResponse(status, json.dumps(value).encode(), {"Content-Type": "application/json"})


def _error(status: int, name: str, issue: str) -> FakeResponse:
    return _json(status, {"name": name, "message": issue, "debug_id": secrets.token_hex(6),
                          "details": [{"issue": issue, "description": issue}]})


class FakePaypal(FakeProvider):
    """PayPal for one REST app (client id and secret), one merchant and one webhook."""

    def __init__(self, ca: TestCA, *, client_id: str, client_secret: str, webhook_id: str, merchant_id: str) -> None:
        super().__init__(ca)
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_id = webhook_id
        self.merchant_id = merchant_id
        self.webhook_url = ""
        self.tokens: set[str] = set()
        self.request_ids: dict[str, FakeResponse] = {}
        self.capture_lock = threading.Lock()
        self.signing_key, self.signing_cert = ca.issue(CERT_NAME, dns_names=(CERT_NAME,))
        self.served_cert_pem: bytes | None = None
        """PEM served at the cert URL instead of the signing certificate (tests of the chain check)."""
        self.forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def cert_url(self) -> str:
        return f"{self.base_url}/v1/notifications/certs/{CERT_ID}"

    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.path == "/v1/oauth2/token" and request.method == "POST":
            return self._token(request)
        if request.path == f"/v1/notifications/certs/{CERT_ID}":
            pem = self.served_cert_pem or self.signing_cert.public_bytes(serialization.Encoding.PEM)
            return FakeResponse(200, pem, {"Content-Type": "application/x-pem-file"})
        authorization = request.header("Authorization") or ""
        if authorization.removeprefix("Bearer ") not in self.tokens:
            return _json(401, {"error": "invalid_token", "error_description": "Access Token not found in cache"})
        if request.path == "/v2/checkout/orders" and request.method == "POST":
            return self._idempotent(request, self._create)
        if request.path == "/v1/notifications/verify-webhook-signature":
            return self._verify_postback(json.loads(request.body))
        if request.path.startswith("/v2/checkout/orders/"):
            order_id, _, action = request.path.removeprefix("/v2/checkout/orders/").partition("/")
            order = self.orders.get(order_id)
            if order is None:
                return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
            if action == "capture" and request.method == "POST":
                with self.capture_lock:
                    return self._idempotent(request, lambda _request: self._capture(order))
            if not action and request.method == "GET":
                return _json(200, self.order_json(order))
        return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")

    def _token(self, request: FakeRequest) -> FakeResponse:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        valid = request.header("Authorization") == f"Basic {expected}"
        if not valid or b"grant_type=client_credentials" not in request.body:
            return _json(401, {"error": "invalid_client", "error_description": "Client Authentication failed"})
        token = secrets.token_urlsafe(32)
        self.tokens.add(token)
        return _json(200, {"scope": "https://uri.paypal.com/services/payments/payment", "access_token": token,
                           "token_type": "Bearer", "app_id": "APP-80W284485P519543T", "expires_in": 32400})

    def _idempotent(self, request: FakeRequest, action: object) -> FakeResponse:
        key = request.header("PayPal-Request-Id")
        if key and key in self.request_ids:
            earlier = self.request_ids[key]
            return FakeResponse(200, earlier.body, earlier.headers)
        response = action(request)  # type: ignore[operator]
        if key and response.status < 300:
            self.request_ids[key] = response
        return response

    def _create(self, request: FakeRequest) -> FakeResponse:
        body = json.loads(request.body)
        unit = body["purchase_units"][0]
        context = body["payment_source"]["paypal"]["experience_context"]
        if body.get("intent") != "CAPTURE" or "." not in unit["amount"]["value"]:
            return _error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE")
        order_id = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17))
        order = FakeOrder(
            key=order_id, merchant_order_id=unit["reference_id"], amount=Decimal(unit["amount"]["value"]),
            currency=unit["amount"]["currency_code"], return_url=context["return_url"],
            cancel_url=context["cancel_url"], notify_url=self.webhook_url,
            data={"unit": unit, "paypal_status": "CREATED", "captures": []},
        )
        self.orders[order_id] = order
        return _json(201, self.order_json(order))

    def order_json(self, order: FakeOrder) -> dict[str, object]:
        unit = dict(order.data["unit"])  # type: ignore[call-overload]
        unit["payee"] = {"merchant_id": self.merchant_id}
        if order.data["captures"]:
            unit["payments"] = {"captures": order.data["captures"]}
        return {
            "id": order.key, "intent": "CAPTURE", "status": order.data["paypal_status"], "purchase_units": [unit],
            "links": [
                {"href": f"{self.base_url}/v2/checkout/orders/{order.key}", "rel": "self", "method": "GET"},
                {"href": f"{self.hosted_url(order.key)}?token={order.key}", "rel": "approve", "method": "GET"},
                {"href": f"{self.base_url}/v2/checkout/orders/{order.key}/capture", "rel": "capture",
                 "method": "POST"},
            ],
        }

    def _capture(self, order: FakeOrder) -> FakeResponse:
        status = order.data["paypal_status"]
        if status == "COMPLETED":
            return _error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        if status != "APPROVED":
            return _error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
        if order.status == "declined":
            return _error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED")
        capture = {
            "id": "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17)),
            "status": "COMPLETED",
            "amount": {"currency_code": self.reported_currency(order), "value": f"{self.reported_amount(order):.2f}"},
            "custom_id": order.merchant_order_id, "invoice_id": order.merchant_order_id,
            "final_capture": True, "payee": {"merchant_id": self.merchant_id},
            "supplementary_data": {"related_ids": {"order_id": order.key}},
            "create_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        order.data["captures"] = [capture]
        order.data["paypal_status"] = "COMPLETED"
        events = [self.webhook(order, "PAYMENT.CAPTURE.COMPLETED", capture)]
        if self.misbehaviour.out_of_order:
            events.append(self.webhook(order, "PAYMENT.CAPTURE.PENDING", {**capture, "status": "PENDING"}))
        if order.notify_url:
            # PayPal sends the webhook on its own schedule, never inside the capture call.
            threading.Thread(target=self.deliver, args=(events,), daemon=True).start()
        return _json(201, self.order_json(order))

    def webhook(self, order: FakeOrder, event_type: str, resource: dict[str, object],
                key: rsa.RSAPrivateKey | None = None, cert_url: str | None = None) -> SentNotification:
        """A webhook event for ``resource``, signed as PayPal signs it (or with ``key``)."""
        body = json.dumps({
            "id": f"WH-{uuid.uuid4().hex[:17].upper()}", "event_version": "1.0", "resource_type": "capture",
            "resource_version": "2.0", "event_type": event_type, "summary": event_type,
            "create_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "resource": resource,
        }).encode()
        transmission_id = str(uuid.uuid1())
        transmission_time = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        signed = f"{transmission_id}|{transmission_time}|{self.webhook_id}|{zlib.crc32(body)}".encode()
        key = key or (self.forged_key if self.misbehaviour.forge else self.signing_key)
        signature = base64.b64encode(key.sign(signed, padding.PKCS1v15(), hashes.SHA256())).decode()
        headers = {
            "Content-Type": "application/json", "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time, "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-CERT-URL": cert_url or self.cert_url, "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        }
        return SentNotification("POST", order.notify_url, headers, body)

    def _verify_postback(self, body: dict[str, object]) -> FakeResponse:
        raw = json.dumps(body.get("webhook_event")).encode()
        signed = f"{body.get('transmission_id')}|{body.get('transmission_time')}|{body.get('webhook_id')}|"
        public_key = self.signing_cert.public_key()
        assert isinstance(public_key, rsa.RSAPublicKey)
        # PayPal checks the signature over the event as it sent it; the JSON here was re-encoded by the
        # caller, so compare against the body the fake signed, found by transmission id.
        original = next((item.body for item in self.sent
                         if item.headers.get("PAYPAL-TRANSMISSION-ID") == body.get("transmission_id")), raw)
        try:
            public_key.verify(base64.b64decode(str(body.get("transmission_sig"))),
                              (signed + str(zlib.crc32(original))).encode(), padding.PKCS1v15(), hashes.SHA256())
            status = "SUCCESS" if body.get("webhook_id") == self.webhook_id else "FAILURE"
        except (InvalidSignature, ValueError):
            status = "FAILURE"
        return _json(200, {"verification_status": status})

    def settle(self, order: FakeOrder) -> str:
        if order.status == "cancelled":
            return f"{order.cancel_url}?{urlencode({'token': order.key})}"
        order.data["paypal_status"] = "APPROVED"
        return f"{order.return_url}?{urlencode({'token': order.key, 'PayerID': 'QYR5Z8XDVJNXQ'})}"



