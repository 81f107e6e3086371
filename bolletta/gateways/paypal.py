"""PayPal Checkout: Orders v2 with OAuth2 client credentials, capture on return, verified webhooks.

- ``POST /v1/oauth2/token`` (HTTP Basic ``client_id:client_secret``, ``grant_type=client_credentials``)
  gives a Bearer token, cached until shortly before ``expires_in``.
- ``POST /v2/checkout/orders`` with ``PayPal-Request-Id`` (the order id, so a retried create
  returns the same PayPal order) creates an ``intent: CAPTURE`` order; the customer is sent to its
  ``approve`` (or ``payer-action``) link.
- When the customer returns, :meth:`PaypalGateway.confirm` captures with
  ``POST /v2/checkout/orders/{id}/capture`` and its own ``PayPal-Request-Id``, so a second call
  returns the first capture instead of charging twice. The capture's status decides, not the order's.
- Webhooks are verified offline: the signed string is ``<transmission id>|<transmission time>|
  <webhook id>|<CRC-32 of the raw body, unsigned decimal>``, signed RSA-SHA256 with the key of the
  certificate at ``PAYPAL-CERT-URL``. The URL must be HTTPS on an allow-listed host, and the
  certificate must chain to a trust anchor (``trust_anchor``, a PEM file; the system store by
  default) and name a host ending in ``cert_name_suffix``. ``verification: postback`` asks
  ``POST /v1/notifications/verify-webhook-signature`` instead.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import threading
import time
import zlib
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import certifi
import httpx
import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from bolletta.gateways.base import (
    CONTRACT_VERSION,
    AttemptLookup,
    Gateway,
    GatewayCapabilities,
    GatewaySettings,
    IncomingNotification,
    Notification,
    PaymentAttempt,
    PaymentRequest,
    PreparedPayment,
    header,
)
from bolletta.gateways.errors import GatewayUnavailable, NotificationRejected

CERT_HOSTS = ("api.paypal.com", "api-m.paypal.com", "api.sandbox.paypal.com", "api-m.sandbox.paypal.com")
DESCRIPTION_LIMIT = 127
TOKEN_MARGIN_SECONDS = 60
CERT_CACHE_SECONDS = 3600
_CAPTURE_STATUSES = {
    "COMPLETED": "completed", "DECLINED": "failed", "FAILED": "failed", "PENDING": "pending",
    "REFUNDED": "pending", "PARTIALLY_REFUNDED": "pending",
}
_EVENT_STATUSES = {
    "PAYMENT.CAPTURE.COMPLETED": "completed", "PAYMENT.CAPTURE.DENIED": "failed",
    "PAYMENT.CAPTURE.DECLINED": "failed", "PAYMENT.CAPTURE.PENDING": "pending",
}
# The platform builds a gateway per request, so tokens and verified certificates are cached per
# process: tokens by API host and credentials, certificates by URL and trust anchor.
_CACHE_LOCK = threading.Lock()
_TOKENS: dict[tuple[str, str, str], tuple[str, float]] = {}
_CERTIFICATES: dict[tuple[str, str], tuple[x509.Certificate, float]] = {}
_TRANSMISSION_HEADERS = ("PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME", "PAYPAL-TRANSMISSION-SIG",
                         "PAYPAL-CERT-URL", "PAYPAL-AUTH-ALGO")


class PaypalSettings(GatewaySettings, kw_only=True, frozen=True):
    """Per-tenant settings of PayPal."""

    client_id: str
    """REST app client id."""
    client_secret: str
    """REST app secret."""
    webhook_id: str
    """Id of the webhook registered for this tenant's notification URL; part of every signature."""
    merchant_id: str = ""
    """The PayPal merchant id (payer id of the account); when set, orders paid to another merchant
    are rejected."""
    verification: Literal["offline", "postback"] = "offline"
    """``offline`` checks the signature with PayPal's certificate; ``postback`` asks PayPal."""
    cert_hosts: list[str] = msgspec.field(default_factory=lambda: list(CERT_HOSTS))
    """Hosts ``PAYPAL-CERT-URL`` may point to; any other is rejected before it is fetched."""
    cert_name_suffix: str = ".paypal.com"
    """The signing certificate's common name must end with this."""
    trust_anchor: str = ""
    """PEM file of CA certificates the signing certificate must chain to; empty uses certifi's store."""


class PaypalGateway(Gateway):
    """PayPal Checkout with Orders v2."""

    id: ClassVar[str] = "paypal"
    name: ClassVar[str] = "PayPal"
    version: ClassVar[str] = "1.0.0"
    contract_version: ClassVar[int] = CONTRACT_VERSION
    Settings: ClassVar[type[GatewaySettings]] = PaypalSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"client_secret"})
    default_api_base_url: ClassVar[str] = "https://api-m.paypal.com"
    test_api_base_url: ClassVar[str] = "https://api-m.sandbox.paypal.com"
    capabilities: ClassVar[GatewayCapabilities] = GatewayCapabilities(query_status=True)
    # NOTE: the approve link's host is inferred; the platform always redirects to the href PayPal returns.
    hosted_page_origins: ClassVar[tuple[str, ...]] = ("https://www.paypal.com", "https://www.sandbox.paypal.com")

    settings: PaypalSettings

    def __init__(self, settings: GatewaySettings, context: Any) -> None:
        super().__init__(settings, context)
        self._token_key = (self.api_base_url, self.settings.client_id, self.settings.client_secret)

    @property
    def merchant_account(self) -> str | None:
        """The configured merchant id, if any."""
        return self.settings.merchant_id or None

    # -- OAuth2 ----------------------------------------------------------------------------------

    def _access_token(self, client: httpx.Client) -> str:
        with _CACHE_LOCK:
            cached = _TOKENS.get(self._token_key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        response = self.call(client, "POST", "/v1/oauth2/token", data={"grant_type": "client_credentials"},
                             auth=(self.settings.client_id, self.settings.client_secret))
        data = _object(response)
        if response.status_code != 200 or not isinstance(data.get("access_token"), str):
            raise GatewayUnavailable(f"paypal: token request returned HTTP {response.status_code}")
        lifetime = float(data.get("expires_in", 0)) - TOKEN_MARGIN_SECONDS
        with _CACHE_LOCK:
            _TOKENS[self._token_key] = (str(data["access_token"]), time.monotonic() + max(lifetime, 0))
        return str(data["access_token"])

    def check_credentials(self) -> str | None:
        """Request an OAuth2 token with the client id and secret; no order is created."""
        with self.http_client() as client:
            response = self.call(client, "POST", "/v1/oauth2/token", data={"grant_type": "client_credentials"},
                                 auth=(self.settings.client_id, self.settings.client_secret))
        if response.status_code >= 500:
            raise GatewayUnavailable(f"paypal: token request returned HTTP {response.status_code}")
        if response.status_code != 200:
            return f"paypal: HTTP {response.status_code} {_object(response).get('error', '')}".strip()
        return None

    def _api(self, method: str, path: str, *, json_body: Any = None, headers: dict[str, str] | None = None
             ) -> httpx.Response:
        with self.http_client() as client:
            token = self._access_token(client)
            all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
            return self.call(client, method, path, json=json_body, headers=all_headers)

    # -- phase 1 -----------------------------------------------------------------------------------

    def prepare(self, request: PaymentRequest) -> PreparedPayment:
        """Create the order and return its ``approve`` link."""
        body = {
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": request.order_id, "custom_id": request.order_id, "invoice_id": request.order_id,
                "description": request.description[:DESCRIPTION_LIMIT],
                "amount": {"currency_code": request.currency, "value": f"{request.amount:.2f}"},
            }],
            "payment_source": {"paypal": {"experience_context": {
                "return_url": request.return_url, "cancel_url": request.cancel_url,
                "locale": "it-IT" if request.language == "it" else "en-GB",
                "shipping_preference": "NO_SHIPPING", "user_action": "PAY_NOW",
            }}},
        }
        response = self._api("POST", "/v2/checkout/orders", json_body=body,
                             headers={"PayPal-Request-Id": request.order_id, "Prefer": "return=representation"})
        data = _object(response)
        if response.status_code not in (200, 201) or not data.get("id"):
            raise GatewayUnavailable(f"paypal: order create returned HTTP {response.status_code}")
        links = {link.get("rel"): link.get("href") for link in data.get("links", []) if isinstance(link, dict)}
        approve = links.get("approve") or links.get("payer-action")
        if not approve:
            raise GatewayUnavailable("paypal: the created order has no approve link")
        return PreparedPayment(redirect_url=str(approve), provider_reference=str(data["id"]))

    # -- phase 2 -----------------------------------------------------------------------------------

    def confirm(self, attempt: PaymentAttempt) -> Notification | None:
        """Capture the approved order; ``None`` while the buyer has not approved it."""
        if not attempt.provider_reference:
            return None
        response = self._api("POST", f"/v2/checkout/orders/{attempt.provider_reference}/capture", json_body={},
                             headers={"PayPal-Request-Id": f"{attempt.order_id}-capture",
                                      "Prefer": "return=representation"})
        data = _object(response)
        if response.status_code in (200, 201):
            return self._from_order(attempt, data)
        issues = {detail.get("issue") for detail in data.get("details", []) if isinstance(detail, dict)}
        if "ORDER_ALREADY_CAPTURED" in issues:
            return self.query_status(attempt)
        if response.status_code == 422 and issues & {"INSTRUMENT_DECLINED", "TRANSACTION_REFUSED",
                                                       "PAYER_CANNOT_PAY"}:
            return Notification(order_id=attempt.order_id, status="failed", amount=attempt.amount,
                                currency=attempt.currency, provider_reference=attempt.provider_reference,
                                detail=",".join(sorted(str(issue) for issue in issues)))
        return None

    def query_status(self, attempt: PaymentAttempt) -> Notification | None:
        """Read the order; the capture's status decides."""
        if not attempt.provider_reference:
            return None
        response = self._api("GET", f"/v2/checkout/orders/{attempt.provider_reference}")
        if response.status_code != 200:
            return None
        return self._from_order(attempt, _object(response))

    def _from_order(self, attempt: PaymentAttempt, order: dict[str, Any]) -> Notification | None:
        units = [unit for unit in order.get("purchase_units", []) if isinstance(unit, dict)]
        unit = next((item for item in units if item.get("reference_id") == attempt.order_id), None)
        if unit is None:
            raise NotificationRejected("paypal order has no purchase unit for this order id")
        merchant = (unit.get("payee") or {}).get("merchant_id")
        captures = [item for item in (unit.get("payments") or {}).get("captures", []) if isinstance(item, dict)]
        if order.get("status") == "VOIDED":
            return Notification(order_id=attempt.order_id, status="cancelled", amount=attempt.amount,
                                currency=attempt.currency, provider_reference=str(order.get("id")),
                                merchant=merchant, detail="VOIDED")
        if not captures:
            return None
        capture = captures[-1]
        amount, currency = _money(capture.get("amount"))
        status = str(capture.get("status", ""))
        return Notification(
            order_id=attempt.order_id, status=_CAPTURE_STATUSES.get(status, "pending"), amount=amount,
            currency=currency, merchant=merchant, provider_reference=str(order.get("id")),
            transaction_id=str(capture.get("id") or "") or None, detail=f"capture {status}",
        )

    # -- webhooks ----------------------------------------------------------------------------------

    def verify_notification(self, incoming: IncomingNotification, attempts: AttemptLookup) -> Notification:
        """Verify the transmission signature, then read a ``PAYMENT.CAPTURE.*`` event."""
        values = {name: header(incoming.headers, name) for name in _TRANSMISSION_HEADERS}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise NotificationRejected(f"paypal webhook lacks {', '.join(missing)}")
        if self.settings.verification == "postback":
            self._verify_postback(values, incoming.body)
        else:
            self._verify_offline(values, incoming.body)

        event = _loads(incoming.body)
        event_type = str(event.get("event_type", ""))
        resource = event.get("resource")
        if not isinstance(resource, dict):
            raise NotificationRejected("paypal webhook has no resource")
        if event_type == "CHECKOUT.ORDER.APPROVED":
            return self._approved(resource, attempts, event)
        order_id = str(resource.get("custom_id") or resource.get("invoice_id") or "")
        amount, currency = _money(resource.get("amount"))
        related = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id")
        return Notification(
            order_id=order_id, status=_EVENT_STATUSES.get(event_type, "pending"), amount=amount, currency=currency,
            merchant=(resource.get("payee") or {}).get("merchant_id"), provider_reference=related,
            transaction_id=str(resource.get("id") or "") or None, event_id=str(event.get("id") or "") or None,
            detail=event_type,
        )

    def _approved(self, order: dict[str, Any], attempts: AttemptLookup, event: dict[str, Any]) -> Notification:
        """An approved order that the buyer never returned from: capture it now."""
        attempt = attempts.by_provider_reference(str(order.get("id", "")))
        if attempt is None:
            raise NotificationRejected("paypal CHECKOUT.ORDER.APPROVED for an unknown order")
        captured = self.confirm(attempt)
        if captured is None:
            return Notification(order_id=attempt.order_id, status="pending", amount=attempt.amount,
                                currency=attempt.currency, event_id=str(event.get("id") or "") or None)
        return captured

    def _verify_offline(self, values: dict[str, str | None], body: bytes) -> None:
        if values["PAYPAL-AUTH-ALGO"] != "SHA256withRSA":
            raise NotificationRejected(f"paypal webhook uses auth algo {values['PAYPAL-AUTH-ALGO']!r}")
        certificate = self._certificate(str(values["PAYPAL-CERT-URL"]))
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise NotificationRejected("paypal signing certificate has no RSA key")
        signed = "|".join((str(values["PAYPAL-TRANSMISSION-ID"]), str(values["PAYPAL-TRANSMISSION-TIME"]),
                           self.settings.webhook_id, str(zlib.crc32(body))))
        try:
            signature = base64.b64decode(str(values["PAYPAL-TRANSMISSION-SIG"]), validate=True)
            public_key.verify(signature, signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error) as exc:
            raise NotificationRejected("paypal webhook signature does not verify for this webhook id") from exc

    def _certificate(self, url: str) -> x509.Certificate:
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname not in self.settings.cert_hosts:
            raise NotificationRejected(f"paypal cert URL host {parts.hostname!r} is not allow-listed")
        with _CACHE_LOCK:
            cached = _CERTIFICATES.get((url, self.settings.trust_anchor))
        if cached and cached[1] > time.monotonic():
            return cached[0]
        with self.http_client() as client:
            response = self.call(client, "GET", url)
        if response.status_code != 200:
            raise GatewayUnavailable(f"paypal: fetching the signing certificate returned HTTP {response.status_code}")
        try:
            chain = x509.load_pem_x509_certificates(response.content)
        except ValueError as exc:
            raise NotificationRejected("paypal cert URL did not return PEM certificates") from exc
        self._check_chain(chain)
        with _CACHE_LOCK:
            _CERTIFICATES[(url, self.settings.trust_anchor)] = (chain[0], time.monotonic() + CERT_CACHE_SECONDS)
        return chain[0]

    def _check_chain(self, chain: list[x509.Certificate]) -> None:
        """Check names, validity dates and signatures from the leaf up to a trust anchor."""
        leaf = chain[0]
        names = [str(item.value) for item in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if not any(name.endswith(self.settings.cert_name_suffix) for name in names):
            raise NotificationRejected(f"paypal signing certificate names {names}, not a PayPal host")
        now = datetime.now(UTC)
        for certificate in chain:
            if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
                raise NotificationRejected("paypal signing certificate chain is expired or not yet valid")
        for child, parent in itertools.pairwise(chain):
            _issued_by(child, parent)
        with open(self.settings.trust_anchor or certifi.where(), "rb") as handle:
            anchors = x509.load_pem_x509_certificates(handle.read())
        top = chain[-1]
        for anchor in anchors:
            if anchor.subject == top.issuer or anchor == top:
                try:
                    _issued_by(top, anchor)
                except NotificationRejected:
                    continue
                return
        raise NotificationRejected("paypal signing certificate does not chain to a trusted anchor")

    def _verify_postback(self, values: dict[str, str | None], body: bytes) -> None:
        payload = {
            "auth_algo": values["PAYPAL-AUTH-ALGO"], "cert_url": values["PAYPAL-CERT-URL"],
            "transmission_id": values["PAYPAL-TRANSMISSION-ID"],
            "transmission_sig": values["PAYPAL-TRANSMISSION-SIG"],
            "transmission_time": values["PAYPAL-TRANSMISSION-TIME"], "webhook_id": self.settings.webhook_id,
            "webhook_event": _loads(body),
        }
        response = self._api("POST", "/v1/notifications/verify-webhook-signature", json_body=payload)
        if _object(response).get("verification_status") != "SUCCESS":
            raise NotificationRejected("paypal verify-webhook-signature did not answer SUCCESS")


def clear_caches() -> None:
    """Forget cached access tokens and signing certificates (after rotating credentials, and in tests)."""
    with _CACHE_LOCK:
        _TOKENS.clear()
        _CERTIFICATES.clear()


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> None:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise NotificationRejected("paypal signing certificate chain does not verify") from exc


def _money(value: Any) -> tuple[Decimal, str]:
    if not isinstance(value, dict):
        raise NotificationRejected("paypal amount is missing")
    try:
        return Decimal(str(value.get("value"))), str(value.get("currency_code", ""))
    except InvalidOperation as exc:
        raise NotificationRejected("paypal amount value is not a decimal") from exc


def _loads(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise NotificationRejected("paypal webhook body is not JSON") from exc
    if not isinstance(value, dict):
        raise NotificationRejected("paypal webhook body is not a JSON object")
    return value


def _object(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
