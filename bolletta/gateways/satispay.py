"""Satispay GBusiness API: signed requests, ``MATCH_CODE`` payments and the GET callback.

Every request is signed with HTTP Signatures (draft-cavage, version 10): headers ``Host``,
``Date``, ``Digest: SHA-256=<base64 of the body's SHA-256>`` and ``Authorization: Signature
keyId="<key id>", algorithm="rsa-sha256", headers="(request-target) host date digest",
signature="<base64 RSA-SHA256 over the signing string>"``. The signing string is one
``name: value`` line per listed header, ``(request-target)`` being ``<lowercase method> <path>``.

Satispay's callback is a GET to ``callback_url`` (``{uuid}`` replaced by the payment id) with no
status in it, so the plugin treats it as a trigger and reads ``GET /payments/{id}``.

:meth:`SatispayGateway.check_credentials` signs ``GET /payments?limit=1`` (the shop's payment
list), which reads and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, ClassVar

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
    cents,
    from_cents,
)
from bolletta.gateways.errors import GatewayConfigError, GatewayUnavailable, NotificationRejected

_STATUSES = {"ACCEPTED": "completed", "CANCELED": "cancelled", "PENDING": "pending", "AUTHORIZED": "pending"}
EXTERNAL_CODE_LIMIT = 50


class SatispaySettings(GatewaySettings, kw_only=True, frozen=True):
    """Per-tenant settings of Satispay."""

    key_id: str
    """The ``key_id`` Satispay returned when the tenant's public key was registered."""
    private_key: str
    """PEM of the RSA private key whose public half was registered with Satispay."""


def digest_header(body: bytes) -> str:
    """Return the ``Digest`` header value of ``body``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def signing_string(method: str, path: str, host: str, date: str, digest: str) -> str:
    """Return the draft-cavage signing string over ``(request-target) host date digest``."""
    return f"(request-target): {method.lower()} {path}\nhost: {host}\ndate: {date}\ndigest: {digest}"


class SatispayGateway(Gateway):
    """Satispay web payment (``MATCH_CODE`` flow)."""

    id: ClassVar[str] = "satispay"
    name: ClassVar[str] = "Satispay"
    version: ClassVar[str] = "1.0.0"
    contract_version: ClassVar[int] = CONTRACT_VERSION
    Settings: ClassVar[type[GatewaySettings]] = SatispaySettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"private_key"})
    default_api_base_url: ClassVar[str] = "https://authservices.satispay.com/g_business/v1"
    test_api_base_url: ClassVar[str] = "https://staging.authservices.satispay.com/g_business/v1"
    capabilities: ClassVar[GatewayCapabilities] = GatewayCapabilities(query_status=True)
    # NOTE: the staging environment's web page host is not confirmed, so only production is listed.
    hosted_page_origins: ClassVar[tuple[str, ...]] = ("https://online.satispay.com",)

    settings: SatispaySettings

    def __init__(self, settings: GatewaySettings, context: Any) -> None:
        super().__init__(settings, context)
        try:
            key = serialization.load_pem_private_key(self.settings.private_key.encode(), password=None)
        except ValueError as exc:
            raise GatewayConfigError("satispay private_key is not an unencrypted PEM private key") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise GatewayConfigError("satispay private_key must be an RSA key")
        self._key = key

    def _signed(self, client: httpx.Client, method: str, path: str, body: bytes = b"",
                extra: dict[str, str] | None = None) -> httpx.Response:
        url = httpx.URL(self.api_base_url + path)
        host = url.netloc.decode()
        date = format_datetime(datetime.now(UTC), usegmt=False)
        digest = digest_header(body)
        text = signing_string(method, url.raw_path.decode(), host, date, digest)
        signature = base64.b64encode(self._key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
        headers = {
            "Host": host, "Date": date, "Digest": digest, "Content-Type": "application/json",
            "Authorization": (f'Signature keyId="{self.settings.key_id}", algorithm="rsa-sha256", '
                              f'headers="(request-target) host date digest", signature="{signature}"'),
            **(extra or {}),
        }
        return self.call(client, method, str(url), content=body or None, headers=headers)

    def check_credentials(self) -> str | None:
        """Sign a request for the shop's latest payment and discard the payment it returns.

        A rejection returns Satispay's ``code`` and ``message``, and ``wlt``, the request id
        Satispay's support asks for.
        """
        with self.http_client() as client:
            response = self._signed(client, "GET", "/payments?limit=1")
        if response.status_code == 200:
            return None
        data = _object(response)
        reason = f"satispay: HTTP {response.status_code}"
        if "code" in data:
            reason += f" code {data['code']} ({data.get('message', '')})"
        if data.get("wlt"):
            reason += f" wlt {data['wlt']}"
        return reason

    def prepare(self, request: PaymentRequest) -> PreparedPayment:
        """Create a ``MATCH_CODE`` payment and return Satispay's web page for it."""
        if request.currency != "EUR":
            raise GatewayConfigError(f"Satispay takes EUR only, not {request.currency}")
        body = httpx.Request("POST", "http://x", json={
            "flow": "MATCH_CODE", "amount_unit": cents(request.amount), "currency": "EUR",
            "external_code": request.order_id[:EXTERNAL_CODE_LIMIT],
            "callback_url": f"{request.notify_url}?payment_id={{uuid}}", "redirect_url": request.return_url,
            "metadata": {"order_id": request.order_id},
        }).content
        with self.http_client() as client:
            response = self._signed(client, "POST", "/payments", body, {"Idempotency-Key": request.order_id})
        data = _object(response)
        if response.status_code not in (200, 201) or not data.get("id") or not data.get("redirect_url"):
            raise GatewayUnavailable(f"satispay: POST /payments returned HTTP {response.status_code}")
        return PreparedPayment(redirect_url=str(data["redirect_url"]), provider_reference=str(data["id"]))

    def verify_notification(self, incoming: IncomingNotification, attempts: AttemptLookup) -> Notification:
        """Treat the callback as a trigger and read the payment from Satispay."""
        payment_id = incoming.query.get("payment_id", "")
        attempt = attempts.by_provider_reference(payment_id) if payment_id else None
        if attempt is None:
            raise NotificationRejected("satispay callback names no known payment")
        notification = self.query_status(attempt)
        if notification is None:
            raise GatewayUnavailable("satispay: the payment could not be read")
        return notification

    def query_status(self, attempt: PaymentAttempt) -> Notification | None:
        """Read ``GET /payments/{id}``; its ``external_code`` must be the attempt's order id."""
        if not attempt.provider_reference:
            return None
        with self.http_client() as client:
            response = self._signed(client, "GET", f"/payments/{attempt.provider_reference}")
        data = _object(response)
        if response.status_code != 200:
            raise GatewayUnavailable(f"satispay: GET /payments returned HTTP {response.status_code}")
        if data.get("external_code") != attempt.order_id[:EXTERNAL_CODE_LIMIT]:
            raise NotificationRejected("satispay payment belongs to another order")
        status = str(data.get("status", ""))
        amount = data.get("amount_unit")
        if not isinstance(amount, int):
            raise NotificationRejected("satispay payment has no integer amount_unit")
        return Notification(
            order_id=attempt.order_id, status=_STATUSES.get(status, "pending"), amount=from_cents(amount),
            currency=str(data.get("currency", "")), provider_reference=attempt.provider_reference,
            transaction_id=attempt.provider_reference if status == "ACCEPTED" else None,
            detail=f"status={status}", event_id=f"{attempt.provider_reference}:{status}",
        )


def _object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


