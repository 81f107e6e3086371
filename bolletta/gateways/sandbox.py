"""Sandbox gateway: a simulated payment provider served by the platform itself.

The platform serves the simulated payment page at ``/c/<tenant slug>/sandbox/<order id>?lang=<language>``,
in the language of the customer's bill pages. When the
customer picks an outcome there, the platform builds a signed notification with
:meth:`SandboxGateway.build_notification` and posts it to the attempt's ``notify_url``, so the
notification goes through the same verification path as a real provider's.

Signature header: ``X-Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, where the HMAC
key is the context's ``signing_key`` and the signed bytes are ``f"{t}."`` followed by the body.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal, cast
from urllib.parse import quote

import msgspec

from bolletta.gateways.base import (
    CONTRACT_VERSION,
    NOTIFICATION_STATUSES,
    AttemptLookup,
    Gateway,
    GatewayCapabilities,
    GatewaySettings,
    IncomingNotification,
    Notification,
    PaymentRequest,
    PreparedPayment,
    header,
)
from bolletta.gateways.errors import NotificationRejected
from bolletta.platform import clock

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Sandbox-Signature"
MAX_CLOCK_SKEW_SECONDS = 300
"""A notification whose timestamp is further than this from the platform clock is rejected."""

PROVIDER_REFERENCE_PREFIX = "sbx_"

_Status = Literal["completed", "failed", "cancelled", "pending"]

_SIGNATURE_PATTERN = re.compile(r"^t=(?P<timestamp>[0-9]{1,12}),v1=(?P<digest>[0-9a-f]{64})$")


class SandboxSettings(GatewaySettings, kw_only=True, frozen=True):
    """Per-tenant settings of the sandbox gateway."""

    merchant_id: str = "sandbox-merchant"
    """Simulated merchant account; notifications naming another merchant are rejected."""

    test_mode: bool = True
    """Always shown as test mode: the sandbox moves no money."""


class _SandboxEvent(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """JSON body of a sandbox notification."""

    order_id: Annotated[str, msgspec.Meta(min_length=1)]
    status: _Status
    amount: Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?$")]
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    merchant: str
    event_id: Annotated[str, msgspec.Meta(min_length=1)]
    created_at: Annotated[datetime, msgspec.Meta(tz=True)]


class SandboxGateway(Gateway):
    """Gateway that simulates a hosted payment page and signed notifications, moving no money."""

    id: ClassVar[str] = "sandbox"
    name: ClassVar[str] = "Sandbox (simulated payments)"
    version: ClassVar[str] = "1.0.0"
    contract_version: ClassVar[int] = CONTRACT_VERSION
    Settings: ClassVar[type[GatewaySettings]] = SandboxSettings
    capabilities: ClassVar[GatewayCapabilities] = GatewayCapabilities()

    settings: SandboxSettings

    def prepare(self, request: PaymentRequest) -> PreparedPayment:
        """Return the platform's simulated payment page for the order, in the request's language.

        Raises:
            ValueError: the request belongs to another tenant than this gateway instance.
        """
        if request.tenant_slug != self.context.tenant_slug:
            raise ValueError(
                f"payment request for tenant {request.tenant_slug!r} sent to the sandbox gateway "
                f"of tenant {self.context.tenant_slug!r}"
            )
        base_url = self.context.public_base_url.rstrip("/")
        tenant = quote(self.context.tenant_slug, safe="")
        order = quote(request.order_id, safe="")
        language = quote(request.language, safe="")
        return PreparedPayment(
            redirect_url=f"{base_url}/c/{tenant}/sandbox/{order}?lang={language}",
            provider_reference=PROVIDER_REFERENCE_PREFIX + request.order_id,
        )

    def build_notification(
        self, order_id: str, status: str, amount: Decimal, currency: str, now: datetime
    ) -> tuple[dict[str, str], bytes]:
        """Build the headers and body of a signed notification, as the simulated provider sends it.

        Args:
            order_id: The order the notification is about.
            status: ``'completed'``, ``'failed'``, ``'cancelled'`` or ``'pending'``.
            amount: Amount in ``currency`` units; written to the body as a decimal string.
            currency: ISO 4217 code.
            now: Aware time of the notification; its Unix seconds go into the signature.

        Raises:
            ValueError: ``status`` is not a notification status or ``now`` is naive.
        """
        if status not in NOTIFICATION_STATUSES:
            allowed = ", ".join(sorted(NOTIFICATION_STATUSES))
            raise ValueError(f"invalid notification status {status!r}; use one of {allowed}")
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")

        event = _SandboxEvent(
            order_id=order_id,
            status=cast(_Status, status),
            amount=f"{amount:f}",
            currency=currency,
            merchant=self.settings.merchant_id,
            event_id=uuid.uuid4().hex,
            created_at=now,
        )
        body = msgspec.json.encode(event)
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: f"t={timestamp},v1={self._sign(timestamp, body)}",
        }
        return headers, body

    @property
    def merchant_account(self) -> str | None:
        """The simulated merchant account of the settings."""
        return self.settings.merchant_id

    def verify_notification(self, incoming: IncomingNotification, attempts: AttemptLookup) -> Notification:
        """Check signature, timestamp, body shape and merchant, then return the notification.

        Raises:
            NotificationRejected: any check failed; the message names which one.
        """
        headers, body = incoming.headers, incoming.body
        timestamp = self._check_signature(headers, body)

        skew = abs(clock.now().timestamp() - timestamp)
        if skew > MAX_CLOCK_SKEW_SECONDS:
            raise NotificationRejected(
                f"sandbox notification timestamp is {int(skew)} seconds away from the platform "
                f"clock; at most {MAX_CLOCK_SKEW_SECONDS} are allowed"
            )

        try:
            event = msgspec.json.decode(body, type=_SandboxEvent)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise NotificationRejected(f"malformed sandbox notification body: {exc}") from exc
        amount = Decimal(event.amount)
        if amount <= 0:
            raise NotificationRejected(f"sandbox notification amount must be positive, got {event.amount}")
        if event.merchant != self.settings.merchant_id:
            raise NotificationRejected(
                f"sandbox notification names merchant {event.merchant!r}, "
                f"expected {self.settings.merchant_id!r}"
            )

        logger.info(
            "sandbox notification verified tenant=%s order_id=%s status=%s event_id=%s",
            self.context.tenant_slug,
            event.order_id,
            event.status,
            event.event_id,
        )
        return Notification(
            order_id=event.order_id,
            status=event.status,
            amount=amount,
            currency=event.currency,
            merchant=event.merchant,
            provider_reference=PROVIDER_REFERENCE_PREFIX + event.order_id,
            event_id=event.event_id,
        )

    def _check_signature(self, headers: Mapping[str, str], body: bytes) -> int:
        """Verify the signature header against ``body`` and return its Unix timestamp."""
        value = header(headers, SIGNATURE_HEADER)
        if value is None:
            raise NotificationRejected(f"sandbox notification has no {SIGNATURE_HEADER} header")
        match = _SIGNATURE_PATTERN.match(value.strip())
        if match is None:
            raise NotificationRejected(
                f"malformed {SIGNATURE_HEADER} header; expected t=<unix seconds>,v1=<64 hex digits>"
            )

        timestamp = int(match["timestamp"])
        if not hmac.compare_digest(self._sign(timestamp, body), match["digest"]):
            raise NotificationRejected("sandbox notification signature does not match its body")
        return timestamp

    def _sign(self, timestamp: int, body: bytes) -> str:
        signed = f"{timestamp}.".encode() + body
        return hmac.new(self.context.signing_key, signed, hashlib.sha256).hexdigest()

