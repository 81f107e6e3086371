"""PayPal's offline webhook check: the signing certificate must chain to the trust anchor, name a
PayPal host and be valid now, whatever key signed the webhook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bolletta.gateways.base import GatewayContext, IncomingNotification, PaymentAttempt
from bolletta.gateways.errors import NotificationRejected
from bolletta.gateways.paypal import PaypalGateway, PaypalSettings, clear_caches
from bolletta.gateways.testing import StaticAttempts
from tests.fakes.payment_provider import FakeOrder
from tests.fakes.paypal import CERT_NAME, FakePaypal
from tests.fakes.tls import TestCA
from tests.integration.payments.shop import PAYPAL_CLIENT_ID, PAYPAL_MERCHANT_ID, PAYPAL_SECRET, PAYPAL_WEBHOOK_ID

ORDER_ID = "B0certificates0000001"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("paypal-cert-ca"))


@pytest.fixture()
def fake(ca: TestCA) -> Iterator[FakePaypal]:
    clear_caches()  # a new fake may reuse an earlier one's port, and so its certificate URL
    fake = FakePaypal(ca, client_id=PAYPAL_CLIENT_ID, client_secret=PAYPAL_SECRET, webhook_id=PAYPAL_WEBHOOK_ID,
                      merchant_id=PAYPAL_MERCHANT_ID)
    yield fake
    fake.stop()


def _gateway(ca: TestCA, fake: FakePaypal) -> PaypalGateway:
    settings = PaypalSettings(
        client_id=PAYPAL_CLIENT_ID, client_secret=PAYPAL_SECRET, webhook_id=PAYPAL_WEBHOOK_ID,
        api_base_url=fake.base_url, ca_bundle=str(ca.ca_path), cert_hosts=["127.0.0.1"],
        trust_anchor=str(ca.ca_path),
    )
    return PaypalGateway(settings, GatewayContext(tenant_slug="acme", public_base_url="https://x", signing_key=b"k"))


def _webhook(fake: FakePaypal, key: rsa.RSAPrivateKey | None = None, cert_url: str | None = None
             ) -> IncomingNotification:
    order = FakeOrder(key="5O190127TN364715T", merchant_order_id=ORDER_ID, amount=Decimal("84.20"), currency="EUR",
                      return_url="", cancel_url="", notify_url="https://x/hooks")
    capture = {"id": "3C679366HH908993F", "status": "COMPLETED", "custom_id": ORDER_ID,
               "amount": {"currency_code": "EUR", "value": "84.20"}}
    sent = fake.webhook(order, "PAYMENT.CAPTURE.COMPLETED", capture, key=key, cert_url=cert_url)
    return IncomingNotification(method="POST", headers=sent.headers, query={}, body=sent.body)


def _attempts() -> StaticAttempts:
    return StaticAttempts(PaymentAttempt(order_id=ORDER_ID, amount=Decimal("84.20"), currency="EUR",
                                         created_at=datetime.now(UTC)))


def _self_signed(name: str, key: rsa.RSAPrivateKey, *, days: int = 30, start_days: int = -1) -> bytes:
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now + timedelta(days=start_days))
            .not_valid_after(now + timedelta(days=days)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def _issued(ca: TestCA, name: str, key: rsa.RSAPrivateKey, *, days: int) -> bytes:
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=60))
            .not_valid_after(now + timedelta(days=days)).sign(ca.key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def test_genuine_webhook_verifies(ca: TestCA, fake: FakePaypal) -> None:
    notification = _gateway(ca, fake).verify_notification(_webhook(fake), _attempts())

    assert notification.order_id == ORDER_ID
    assert notification.status == "completed"
    assert notification.amount == Decimal("84.20")
    assert notification.transaction_id == "3C679366HH908993F"
    assert notification.event_id


def test_certificate_from_other_ca_rejected(ca: TestCA, fake: FakePaypal) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake.served_cert_pem = _self_signed(CERT_NAME, key)

    with pytest.raises(NotificationRejected, match="does not chain to a trusted anchor"):
        _gateway(ca, fake).verify_notification(_webhook(fake, key=key), _attempts())


def test_certificate_for_other_host_rejected(ca: TestCA, fake: FakePaypal) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake.served_cert_pem = _issued(ca, "webhooks.attacker.example", key, days=30)

    with pytest.raises(NotificationRejected, match="not a PayPal host"):
        _gateway(ca, fake).verify_notification(_webhook(fake, key=key), _attempts())


def test_expired_certificate_rejected(ca: TestCA, fake: FakePaypal) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake.served_cert_pem = _issued(ca, CERT_NAME, key, days=-2)

    with pytest.raises(NotificationRejected, match="expired or not yet valid"):
        _gateway(ca, fake).verify_notification(_webhook(fake, key=key), _attempts())


def test_cert_url_not_fetched_off_allow_list(ca: TestCA, fake: FakePaypal) -> None:
    before = len(fake.requests)
    http_url = fake.cert_url.replace("https://", "http://")

    for url in (http_url, "https://api.paypal.com.attacker.example/v1/notifications/certs/CERT-1"):
        with pytest.raises(NotificationRejected, match="not allow-listed"):
            _gateway(ca, fake).verify_notification(_webhook(fake, cert_url=url), _attempts())
    time.sleep(0.1)
    assert len(fake.requests) == before
