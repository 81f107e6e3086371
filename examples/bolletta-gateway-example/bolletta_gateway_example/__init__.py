"""ExamplePay: an example gateway plugin for Bolletta Smart.

Notifications are JSON bodies ``{"order_id", "status", "amount_cents", "currency", "merchant",
"event_id"}`` signed with HMAC-SHA256 of the raw body under the merchant's ``webhook_secret``, sent
in the header ``X-ExamplePay-Signature: sha256=<hex>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import ClassVar
from urllib.parse import urlencode

from bolletta.gateways.base import (
    CONTRACT_VERSION,
    AttemptLookup,
    Gateway,
    GatewayCapabilities,
    GatewaySettings,
    IncomingNotification,
    Notification,
    PaymentRequest,
    PreparedPayment,
    cents,
    from_cents,
    header,
)
from bolletta.gateways.errors import NotificationRejected

SIGNATURE_HEADER = "X-ExamplePay-Signature"
STATUSES = {"paid": "completed", "declined": "failed", "abandoned": "cancelled", "processing": "pending"}


class ExamplePaySettings(GatewaySettings, kw_only=True, frozen=True):
    """Per-tenant settings of ExamplePay."""

    merchant_id: str
    """The merchant's account at ExamplePay."""
    webhook_secret: str
    """Shared secret of the notification signatures."""
    api_base_url: str = "https://pay.examplepay.invalid"
    """ExamplePay's hosted page host (the ``.invalid`` name never resolves)."""


def sign(secret: str, body: bytes) -> str:
    """Return the signature header value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class ExamplePayGateway(Gateway):
    """ExamplePay hosted page with HMAC-signed notifications."""

    id: ClassVar[str] = "examplepay"
    name: ClassVar[str] = "ExamplePay"
    version: ClassVar[str] = "1.0.0"
    contract_version: ClassVar[int] = CONTRACT_VERSION
    Settings: ClassVar[type[GatewaySettings]] = ExamplePaySettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"webhook_secret"})
    capabilities: ClassVar[GatewayCapabilities] = GatewayCapabilities()

    settings: ExamplePaySettings

    @property
    def merchant_account(self) -> str | None:
        """The merchant id notifications must name."""
        return self.settings.merchant_id

    def prepare(self, request: PaymentRequest) -> PreparedPayment:
        """Return the hosted page URL; ExamplePay creates the order when the customer opens it."""
        query = urlencode({
            "merchant": self.settings.merchant_id, "order": request.order_id,
            "amount": cents(request.amount), "currency": request.currency,
            "description": request.description[:140], "return": request.return_url,
            "cancel": request.cancel_url, "notify": request.notify_url,
        })
        return PreparedPayment(redirect_url=f"{self.api_base_url}/pay?{query}", provider_reference=request.order_id)

    def verify_notification(self, incoming: IncomingNotification, attempts: AttemptLookup) -> Notification:
        """Check the HMAC over the raw body before reading it."""
        signature = header(incoming.headers, SIGNATURE_HEADER) or ""
        if not hmac.compare_digest(sign(self.settings.webhook_secret, incoming.body), signature):
            raise NotificationRejected(f"examplepay notification has a missing or wrong {SIGNATURE_HEADER}")
        try:
            event = json.loads(incoming.body)
            status = STATUSES[event["status"]]
            amount = from_cents(int(event["amount_cents"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise NotificationRejected("examplepay notification body is malformed") from exc
        if event.get("merchant") != self.settings.merchant_id:
            raise NotificationRejected("examplepay notification names another merchant")
        return Notification(
            order_id=str(event["order_id"]), status=status, amount=amount, currency=str(event.get("currency", "")),
            merchant=str(event["merchant"]), provider_reference=str(event["order_id"]),
            event_id=str(event.get("event_id") or "") or None, transaction_id=event.get("transaction_id"),
        )
