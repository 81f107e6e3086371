"""Conformance test kit for gateway plugins, for the plugin's own pytest suite.

Install it with ``pip install bolletta[plugin-testing]`` and subclass :class:`GatewayConformance`
in a test module::

    class TestMyGateway(GatewayConformance):
        gateway_class = MyGateway
        settings = {"merchant_id": "m-1", "secret": "s3cret"}

        def signed_notification(self, gateway, attempt, status):
            ...  # build headers and body exactly as the provider sends them

pytest then collects every ``test_*`` method below. They check the contract the platform relies
on: class attributes, settings validation, secrets declared, ``prepare`` returning a page and no
money moved, notifications verified and tampered ones rejected, and the defaults of the optional
members (refund refused with :class:`RefundNotSupported` unless the plugin declares it).

A gateway whose notifications are only confirmed by calling the provider (no signature of their
own) sets ``notifications_need_provider = True``; the notification tests then skip, and the
plugin's own tests must cover them against a fake server.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import msgspec
import pytest

from bolletta.gateways.base import (
    CONTRACT_VERSION,
    NOTIFICATION_STATUSES,
    Gateway,
    GatewayCapabilities,
    GatewayContext,
    GatewaySettings,
    IncomingNotification,
    Notification,
    PaymentAttempt,
    PaymentRequest,
    PreparedPayment,
)
from bolletta.gateways.errors import GatewayConfigError, NotificationRejected, RefundNotSupported

PLUGIN_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
ORDER_ID = "B0conformance00000001"
AMOUNT = Decimal("84.20")


class StaticAttempts:
    """An attempt lookup holding the given attempts, for verifying notifications without a database."""

    def __init__(self, *attempts: PaymentAttempt) -> None:
        self.attempts = list(attempts)

    def by_order_id(self, order_id: str) -> PaymentAttempt | None:
        """Return the attempt with ``order_id``, or ``None``."""
        return next((item for item in self.attempts if item.order_id == order_id), None)

    def by_provider_reference(self, reference: str) -> PaymentAttempt | None:
        """Return the attempt with provider reference ``reference``, or ``None``."""
        return next((item for item in self.attempts if item.provider_reference == reference), None)


def payment_request(tenant: str = "acme", base_url: str = "https://bollette.example") -> PaymentRequest:
    """Return a typical payment request, as the platform builds one."""
    attempt_url = f"{base_url}/c/{tenant}/b/Bill0000000000000000001/pagamento/{ORDER_ID}"
    return PaymentRequest(
        payment_id="1", order_id=ORDER_ID, amount=AMOUNT, currency="EUR",
        description="Bolletta luce n. 2026/E/000123 del 17/08/2026", return_url=f"{attempt_url}/esito",
        cancel_url=f"{attempt_url}/annullato", notify_url=f"{base_url}/hooks/gateways/x/{tenant}",
        tenant_slug=tenant,
    )


class GatewayConformance:
    """Contract tests every gateway plugin must pass. Subclass it and set the class attributes."""

    gateway_class: ClassVar[type[Gateway]]
    """The plugin class under test."""

    settings: ClassVar[dict[str, Any]] = {}
    """Valid settings for the plugin, as a tenant would save them."""

    notifications_need_provider: ClassVar[bool] = False
    """True when verifying a notification calls the provider; the notification tests then skip."""

    prepare_needs_provider: ClassVar[bool] = False
    """True when ``prepare`` calls the provider; the prepare test then skips."""

    def signed_notification(self, gateway: Gateway, attempt: PaymentAttempt, status: str) -> IncomingNotification:
        """Return a notification the provider would send about ``attempt`` reaching ``status``."""
        raise NotImplementedError("override signed_notification to build a notification as the provider sends it")

    # -- helpers -------------------------------------------------------------------------------

    def make_gateway(self, tenant: str = "acme", signing_key: bytes = b"k" * 32) -> Gateway:
        """Return the plugin built with :attr:`settings` for ``tenant``."""
        context = GatewayContext(tenant_slug=tenant, public_base_url="https://bollette.example",
                                 signing_key=signing_key)
        return self.gateway_class(self.gateway_class.settings_from_dict(self.settings), context)

    def make_attempt(self, gateway: Gateway) -> PaymentAttempt:
        """Return the stored attempt for :func:`payment_request`, prepared when prepare is offline."""
        request = payment_request(gateway.context.tenant_slug)
        prepared = None if self.prepare_needs_provider else gateway.prepare(request)
        return PaymentAttempt(
            order_id=ORDER_ID, amount=AMOUNT, currency="EUR", created_at=datetime.now(UTC),
            provider_reference=prepared.provider_reference if prepared else None,
            provider_data=dict(prepared.provider_data) if prepared else {},
        )

    # -- class contract ----------------------------------------------------------------------------

    def test_class_attributes(self) -> None:
        cls = self.gateway_class
        assert issubclass(cls, Gateway), "the plugin must subclass bolletta.gateways.base.Gateway"
        assert PLUGIN_ID.match(cls.id), f"id {cls.id!r} must be 2-40 lowercase letters, digits or _"
        assert isinstance(cls.name, str) and cls.name.strip(), "name must be a non-empty string"
        assert isinstance(cls.version, str) and cls.version.strip(), "version must be a non-empty string"
        assert cls.contract_version == CONTRACT_VERSION, (
            f"contract_version is {cls.contract_version}; this platform provides {CONTRACT_VERSION}"
        )
        assert isinstance(cls.capabilities, GatewayCapabilities)
        assert not getattr(cls, "__abstractmethods__", None), "abstract methods left unimplemented"

    def test_settings_struct(self) -> None:
        cls = self.gateway_class
        assert issubclass(cls.Settings, GatewaySettings), "Settings must subclass GatewaySettings"
        names = {field.name for field in msgspec.structs.fields(cls.Settings)}
        assert cls.secret_fields <= names, f"secret_fields {sorted(cls.secret_fields - names)} are not settings"
        for required in ("api_base_url", "ca_bundle", "test_mode"):
            assert required in names

    def test_settings_validation(self) -> None:
        settings = self.gateway_class.settings_from_dict(self.settings)
        assert isinstance(settings, self.gateway_class.Settings)
        with pytest.raises(GatewayConfigError):
            self.gateway_class.settings_from_dict({**self.settings, "test_mode": "not a boolean"})

    # -- phase 1 ---------------------------------------------------------------------------------

    def test_prepare_returns_hosted_page(self) -> None:
        if self.prepare_needs_provider:
            pytest.skip("prepare calls the provider; cover it against a fake server")
        gateway = self.make_gateway()
        prepared = gateway.prepare(payment_request())
        assert isinstance(prepared, PreparedPayment)
        assert prepared.redirect_url.startswith(("https://", "http://"))
        for name in self.gateway_class.secret_fields:
            secret = str(self.settings.get(name, ""))
            if secret:
                assert secret not in prepared.redirect_url, f"the secret {name} leaks into the redirect URL"
                assert secret not in str(prepared.form_fields or {}), f"the secret {name} leaks into the form"

    # -- phase 2 ---------------------------------------------------------------------------------

    def _require_offline_notifications(self) -> None:
        if self.notifications_need_provider:
            pytest.skip("notifications are confirmed by calling the provider; cover them against a fake server")

    def test_notification_round_trip(self) -> None:
        self._require_offline_notifications()
        gateway = self.make_gateway()
        attempt = self.make_attempt(gateway)
        incoming = self.signed_notification(gateway, attempt, "completed")
        notification = gateway.verify_notification(incoming, StaticAttempts(attempt))
        assert isinstance(notification, Notification)
        assert notification.order_id == attempt.order_id
        assert notification.status == "completed"
        assert notification.status in NOTIFICATION_STATUSES
        assert notification.amount == attempt.amount
        assert notification.currency == attempt.currency

    def test_failed_notification(self) -> None:
        self._require_offline_notifications()
        gateway = self.make_gateway()
        attempt = self.make_attempt(gateway)
        notification = gateway.verify_notification(self.signed_notification(gateway, attempt, "failed"),
                                                    StaticAttempts(attempt))
        assert notification.status == "failed"

    def test_tampered_notification_rejected(self) -> None:
        self._require_offline_notifications()
        gateway = self.make_gateway()
        attempt = self.make_attempt(gateway)
        incoming = self.signed_notification(gateway, attempt, "completed")
        tampered = msgspec.structs.replace(
            incoming, body=incoming.body.replace(b"84", b"11"),
            query={key: value.replace("84", "11") for key, value in incoming.query.items()},
        )
        assert tampered != incoming, "the notification must carry the amount for this test to tamper with it"
        with pytest.raises(NotificationRejected):
            gateway.verify_notification(tampered, StaticAttempts(attempt))

    def test_empty_notification_rejected(self) -> None:
        self._require_offline_notifications()
        gateway = self.make_gateway()
        empty = IncomingNotification(method="POST", headers={}, query={}, body=b"")
        with pytest.raises(NotificationRejected):
            gateway.verify_notification(empty, StaticAttempts())

    def test_other_tenant_notification_rejected(self) -> None:
        self._require_offline_notifications()
        other = self.make_gateway(tenant="beta", signing_key=b"o" * 32)
        attempt = self.make_attempt(other)
        incoming = self.signed_notification(other, attempt, "completed")
        gateway = self.make_gateway()
        try:
            notification = gateway.verify_notification(incoming, StaticAttempts(attempt))
        except NotificationRejected:
            return
        # Plugins whose credentials are the same for both tenants here must at least name the merchant.
        assert notification.merchant is None or notification.merchant == gateway.merchant_account

    # -- optional members --------------------------------------------------------------------------

    def test_refund_default(self) -> None:
        gateway = self.make_gateway()
        if gateway.capabilities.refund:
            pytest.skip("the plugin refunds through its API; cover refunds against a fake server")
        attempt = PaymentAttempt(order_id=ORDER_ID, amount=AMOUNT, currency="EUR", created_at=datetime.now(UTC))
        with pytest.raises(RefundNotSupported):
            gateway.refund(attempt, AMOUNT)

    def test_query_status_default(self) -> None:
        gateway = self.make_gateway()
        if gateway.capabilities.query_status:
            pytest.skip("the plugin queries its provider; cover query_status against a fake server")
        attempt = PaymentAttempt(order_id=ORDER_ID, amount=AMOUNT, currency="EUR", created_at=datetime.now(UTC))
        assert gateway.query_status(attempt) is None

    def test_transaction_id(self) -> None:
        gateway = self.make_gateway()
        notification = Notification(order_id=ORDER_ID, status="completed", amount=AMOUNT, currency="EUR",
                                    provider_reference="ref-1", transaction_id="tx-1")
        assert gateway.transaction_id(notification) in ("tx-1", "ref-1")
