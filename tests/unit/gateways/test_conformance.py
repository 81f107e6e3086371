"""The conformance kit run on the built-in gateways whose notifications verify offline."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

from bolletta.gateways.base import Gateway, GatewayContext, IncomingNotification, PaymentAttempt, cents
from bolletta.gateways.nexi import NexiGateway, mac
from bolletta.gateways.sandbox import SandboxGateway
from bolletta.gateways.testing import GatewayConformance

NEXI_SETTINGS = {"mode": "classic", "alias": "ALIAS_WEB_1", "mac_key": "k3y-for-tests"}


class TestSandboxConformance(GatewayConformance):
    gateway_class = SandboxGateway
    settings = {"merchant_id": "acme-merchant"}

    def signed_notification(self, gateway: Gateway, attempt: PaymentAttempt, status: str) -> IncomingNotification:
        assert isinstance(gateway, SandboxGateway)
        headers, body = gateway.build_notification(attempt.order_id, status, attempt.amount, attempt.currency,
                                                   datetime.now(UTC))
        return IncomingNotification(method="POST", headers=headers, query={}, body=body)


class TestNexiClassicConformance(GatewayConformance):
    gateway_class = NexiGateway
    settings = NEXI_SETTINGS

    def signed_notification(self, gateway: Gateway, attempt: PaymentAttempt, status: str) -> IncomingNotification:
        assert isinstance(gateway, NexiGateway)
        params = {
            "codTrans": attempt.order_id, "esito": {"completed": "OK", "failed": "KO"}[status],
            "importo": str(cents(attempt.amount)), "divisa": attempt.currency, "data": "20261204",
            "orario": "101500", "codAut": "AB12CD" if status == "completed" else "",
        }
        key = gateway.settings.mac_key
        params["mac"] = mac(*params.items(), key=key)
        params["alias"] = gateway.settings.alias
        return IncomingNotification(method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"},
                                    query={}, body=urlencode(params).encode())

    def make_gateway(self, tenant: str = "acme", signing_key: bytes = b"k" * 32) -> Gateway:
        if tenant != "acme":
            other = {**NEXI_SETTINGS, "alias": "ALIAS_OTHER", "mac_key": "other-tenant-key"}
            context = GatewayContext(tenant_slug=tenant, public_base_url="https://bollette.example",
                                     signing_key=signing_key)
            return NexiGateway(NexiGateway.settings_from_dict(other), context)
        return super().make_gateway(tenant, signing_key)


def test_amount_helpers() -> None:
    assert cents(Decimal("84.20")) == 8420
    assert cents(Decimal("0.01")) == 1
    assert str(Decimal(8420) / 100) == "84.2"
