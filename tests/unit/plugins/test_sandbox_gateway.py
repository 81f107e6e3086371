"""Sandbox gateway: prepare, signed notifications and every verification failure."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bolletta.gateways.base import (
    GatewayContext,
    IncomingNotification,
    Notification,
    PaymentAttempt,
    PaymentRequest,
)
from bolletta.gateways.errors import GatewayConfigError, NotificationRejected, RefundNotSupported
from bolletta.gateways.sandbox import SandboxGateway, SandboxSettings
from bolletta.platform import clock

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class _NoAttempts:
    def by_order_id(self, order_id: str) -> PaymentAttempt | None:
        return None

    def by_provider_reference(self, reference: str) -> PaymentAttempt | None:
        return None


NO_ATTEMPTS = _NoAttempts()


def _incoming(headers: dict[str, str], body: bytes) -> IncomingNotification:
    return IncomingNotification(method="POST", headers=dict(headers), query={}, body=body)
SIGNING_KEY = b"acme-sandbox-signing-key-0123456"


def _gateway(merchant_id: str = "acme-merchant", signing_key: bytes = SIGNING_KEY) -> SandboxGateway:
    context = GatewayContext(
        tenant_slug="acme", public_base_url="http://127.0.0.1:8000/", signing_key=signing_key
    )
    return SandboxGateway(SandboxSettings(merchant_id=merchant_id), context)


def _signed_headers(body: bytes, timestamp: int, key: bytes = SIGNING_KEY) -> dict[str, str]:
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Sandbox-Signature": f"t={timestamp},v1={digest}"}


def _event_body(**overrides: object) -> bytes:
    event: dict[str, object] = {
        "order_id": "ord-1",
        "status": "completed",
        "amount": "84.20",
        "currency": "EUR",
        "merchant": "acme-merchant",
        "event_id": "0" * 32,
        "created_at": NOW.isoformat(),
    }
    event.update(overrides)
    return json.dumps(event).encode()


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with clock.use_clock(lambda: NOW):
        yield


def test_prepare_points_to_platform_page() -> None:
    request = PaymentRequest(
        payment_id="pay-1",
        order_id="ord 1/a",
        amount=Decimal("84.20"),
        currency="EUR",
        description="Bolletta luce n. 2023/B002/6452 del 17/08/2023",
        return_url="http://127.0.0.1:8000/c/acme/b/x/sommario",
        cancel_url="http://127.0.0.1:8000/c/acme/b/x/sommario",
        notify_url="http://127.0.0.1:8000/hooks/gateways/sandbox/acme",
        tenant_slug="acme",
    )

    prepared = _gateway().prepare(request)

    assert prepared.redirect_url == "http://127.0.0.1:8000/c/acme/sandbox/ord%201%2Fa?lang=it"
    assert prepared.provider_reference == "sbx_ord 1/a"


def test_prepare_passes_customer_language() -> None:
    request = PaymentRequest(
        payment_id="pay-1", order_id="ord-1", amount=Decimal("84.20"), currency="EUR",
        description="Bolletta luce n. 2023/B002/6452 del 17/08/2023",
        return_url="http://127.0.0.1:8000/c/acme/b/x/sommario", cancel_url="http://127.0.0.1:8000/c/acme/b/x/sommario",
        notify_url="http://127.0.0.1:8000/hooks/gateways/sandbox/acme", tenant_slug="acme", language="en",
    )

    prepared = _gateway().prepare(request)

    assert prepared.redirect_url == "http://127.0.0.1:8000/c/acme/sandbox/ord-1?lang=en"


def test_prepare_rejects_other_tenant() -> None:
    request = PaymentRequest(
        payment_id="pay-1",
        order_id="ord-1",
        amount=Decimal("1.00"),
        currency="EUR",
        description="x",
        return_url="http://127.0.0.1:8000/r",
        cancel_url="http://127.0.0.1:8000/c",
        notify_url="http://127.0.0.1:8000/n",
        tenant_slug="globex",
    )

    with pytest.raises(ValueError, match="tenant 'globex'"):
        _gateway().prepare(request)


def test_notification_round_trip() -> None:
    gateway = _gateway()
    headers, body = gateway.build_notification("ord-1", "completed", Decimal("84.20"), "EUR", NOW)

    notification = gateway.verify_notification(_incoming(headers, body), NO_ATTEMPTS)

    event_id = json.loads(body)["event_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", event_id)
    assert notification == Notification(
        order_id="ord-1",
        status="completed",
        amount=Decimal("84.20"),
        currency="EUR",
        merchant="acme-merchant",
        provider_reference="sbx_ord-1",
        event_id=event_id,
    )


def test_notification_body_and_header_format() -> None:
    headers, body = _gateway().build_notification("ord-1", "failed", Decimal("5"), "EUR", NOW)

    event = json.loads(body)
    assert set(event) == {"order_id", "status", "amount", "currency", "merchant", "event_id", "created_at"}
    assert event["amount"] == "5"
    assert event["status"] == "failed"
    assert event["merchant"] == "acme-merchant"
    assert datetime.fromisoformat(event["created_at"]) == NOW
    assert headers["Content-Type"] == "application/json"
    assert (
        headers["X-Sandbox-Signature"] == _signed_headers(body, int(NOW.timestamp()))["X-Sandbox-Signature"]
    )


def test_header_name_case_insensitive() -> None:
    gateway = _gateway()
    headers, body = gateway.build_notification("ord-1", "completed", Decimal("84.20"), "EUR", NOW)
    lowered = {name.lower(): value for name, value in headers.items()}

    assert gateway.verify_notification(_incoming(lowered, body), NO_ATTEMPTS).order_id == "ord-1"


def test_tampered_body_rejected() -> None:
    gateway = _gateway()
    headers, body = gateway.build_notification("ord-1", "completed", Decimal("84.20"), "EUR", NOW)
    tampered = body.replace(b'"84.20"', b'"0.01"')
    assert tampered != body

    with pytest.raises(NotificationRejected, match="signature does not match"):
        gateway.verify_notification(_incoming(headers, tampered), NO_ATTEMPTS)


def test_wrong_key_rejected() -> None:
    headers, body = _gateway(signing_key=b"globex-key").build_notification(
        "ord-1", "completed", Decimal("84.20"), "EUR", NOW
    )

    with pytest.raises(NotificationRejected, match="signature does not match"):
        _gateway().verify_notification(_incoming(headers, body), NO_ATTEMPTS)


@pytest.mark.parametrize("offset_seconds", [-301, 301])
def test_stale_timestamp_rejected(offset_seconds: int) -> None:
    gateway = _gateway()
    sent_at = NOW + timedelta(seconds=offset_seconds)
    headers, body = gateway.build_notification("ord-1", "completed", Decimal("84.20"), "EUR", sent_at)

    with pytest.raises(NotificationRejected, match="301 seconds away"):
        gateway.verify_notification(_incoming(headers, body), NO_ATTEMPTS)


def test_timestamp_at_limit_accepted() -> None:
    gateway = _gateway()
    sent_at = NOW - timedelta(seconds=300)
    headers, body = gateway.build_notification("ord-1", "completed", Decimal("84.20"), "EUR", sent_at)

    assert gateway.verify_notification(_incoming(headers, body), NO_ATTEMPTS).status == "completed"


def test_stale_notification_rejected_after_clock_moves() -> None:
    gateway = _gateway()
    headers, body = gateway.build_notification("ord-1", "completed", Decimal("84.20"), "EUR", NOW)

    with clock.use_clock(lambda: NOW + timedelta(minutes=10)), pytest.raises(NotificationRejected):
        gateway.verify_notification(_incoming(headers, body), NO_ATTEMPTS)


def test_wrong_merchant_rejected() -> None:
    headers, body = _gateway(merchant_id="globex-merchant").build_notification(
        "ord-1", "completed", Decimal("84.20"), "EUR", NOW
    )

    with pytest.raises(NotificationRejected, match="merchant 'globex-merchant', expected 'acme-merchant'"):
        _gateway().verify_notification(_incoming(headers, body), NO_ATTEMPTS)


def test_malformed_json_rejected() -> None:
    body = b'{"order_id": "ord-1", '

    with pytest.raises(NotificationRejected, match="malformed sandbox notification body"):
        _gateway().verify_notification(_incoming(_signed_headers(body, int(NOW.timestamp())), body), NO_ATTEMPTS)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": 84.2}, "amount"),
        ({"amount": "84,20"}, "amount"),
        ({"status": "paid"}, "status"),
        ({"currency": "eur"}, "currency"),
        ({"created_at": "2024-03-01T12:00:00"}, "created_at"),
        ({"extra": "field"}, "extra"),
    ],
)
def test_wrong_body_shape_rejected(overrides: dict[str, object], field: str) -> None:
    body = _event_body(**overrides)

    with pytest.raises(NotificationRejected, match="malformed sandbox notification body") as raised:
        _gateway().verify_notification(_incoming(_signed_headers(body, int(NOW.timestamp())), body), NO_ATTEMPTS)

    assert field in str(raised.value)


def test_zero_amount_rejected() -> None:
    body = _event_body(amount="0.00")

    with pytest.raises(NotificationRejected, match="amount must be positive"):
        _gateway().verify_notification(_incoming(_signed_headers(body, int(NOW.timestamp())), body), NO_ATTEMPTS)


def test_missing_signature_header_rejected() -> None:
    with pytest.raises(NotificationRejected, match="no X-Sandbox-Signature header"):
        _gateway().verify_notification(_incoming({"Content-Type": "application/json"}, _event_body()), NO_ATTEMPTS)


@pytest.mark.parametrize(
    "header",
    ["v1=abc", "t=1709294400", "t=now,v1=" + "0" * 64, "t=1709294400,v1=" + "0" * 63, "t=1,v1=" + "G" * 64],
)
def test_malformed_signature_header_rejected(header: str) -> None:
    with pytest.raises(NotificationRejected, match="malformed X-Sandbox-Signature header"):
        _gateway().verify_notification(_incoming({"X-Sandbox-Signature": header}, _event_body()), NO_ATTEMPTS)


def test_build_rejects_unknown_status() -> None:
    with pytest.raises(ValueError, match="invalid notification status 'paid'"):
        _gateway().build_notification("ord-1", "paid", Decimal("1"), "EUR", NOW)


def test_build_rejects_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        _gateway().build_notification("ord-1", "completed", Decimal("1"), "EUR", NOW.replace(tzinfo=None))


def test_optional_hooks_defaults() -> None:
    gateway = _gateway()

    attempt = PaymentAttempt(order_id="ord-1", amount=Decimal("1.00"), currency="EUR", created_at=NOW)

    assert gateway.query_status(attempt) is None
    assert gateway.confirm(attempt) is None
    assert gateway.capabilities.refund is False
    assert gateway.scrub_personal_data(attempt) is None
    with pytest.raises(RefundNotSupported, match="'sandbox' does not refund through its API"):
        gateway.refund(attempt, Decimal("1.00"))


def test_settings_from_dict() -> None:
    settings = SandboxGateway.settings_from_dict({"merchant_id": "m-7"})

    assert settings == SandboxSettings(merchant_id="m-7")
    with pytest.raises(GatewayConfigError, match=r"\$\.merchant_id"):
        SandboxGateway.settings_from_dict({"merchant_id": 7})


def test_context_repr_hides_signing_key() -> None:
    context = GatewayContext(tenant_slug="acme", public_base_url="http://x", signing_key=SIGNING_KEY)

    assert "signing" not in repr(context)
    assert SIGNING_KEY.decode() not in repr(context)
