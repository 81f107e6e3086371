"""ExamplePay passes the platform's conformance kit."""

from __future__ import annotations

import json
import uuid

from bolletta_gateway_example import SIGNATURE_HEADER, ExamplePayGateway, ExamplePaySettings, sign

from bolletta.gateways.base import Gateway, IncomingNotification, PaymentAttempt, cents
from bolletta.gateways.testing import GatewayConformance

STATUS_WORDS = {"completed": "paid", "failed": "declined", "cancelled": "abandoned", "pending": "processing"}


class TestExamplePay(GatewayConformance):
    gateway_class = ExamplePayGateway
    settings = {"merchant_id": "acme-001", "webhook_secret": "example-secret-for-tests"}

    def make_gateway(self, tenant: str = "acme", signing_key: bytes = b"k" * 32) -> Gateway:
        gateway = super().make_gateway(tenant, signing_key)
        if tenant != "acme":
            other = ExamplePaySettings(merchant_id="beta-002", webhook_secret="beta-secret")
            return ExamplePayGateway(other, gateway.context)
        return gateway

    def signed_notification(self, gateway: Gateway, attempt: PaymentAttempt, status: str) -> IncomingNotification:
        assert isinstance(gateway.settings, ExamplePaySettings)
        body = json.dumps({
            "order_id": attempt.order_id, "status": STATUS_WORDS[status], "amount_cents": cents(attempt.amount),
            "currency": attempt.currency, "merchant": gateway.settings.merchant_id, "event_id": uuid.uuid4().hex,
        }).encode()
        headers = {SIGNATURE_HEADER: sign(gateway.settings.webhook_secret, body)}
        return IncomingNotification(method="POST", headers=headers, query={}, body=body)
