"""Errors raised by gateway plugins and by the platform when it runs them.

- ``GatewayError``: base of every error a gateway raises on purpose.
  - ``NotificationRejected``: a server-to-server notification failed verification and must not
    change any payment.
  - ``RefundNotSupported``: the gateway cannot refund through its API.
  - ``GatewayUnavailable``: the provider could not be reached or returned a temporary failure.
  - ``GatewayConfigError``: the gateway's settings are invalid.
"""

from __future__ import annotations

from bolletta.platform.errors import BollettaError


class GatewayError(BollettaError):
    """Base of the gateway errors; the message never contains card data, personal data or secrets."""


class NotificationRejected(GatewayError):
    """Raised when a notification has a bad signature, a stale timestamp or a malformed body."""


class RefundNotSupported(GatewayError):
    """Raised when a refund is requested from a gateway that cannot refund through its API."""


class GatewayUnavailable(GatewayError):
    """Raised when the provider is unreachable, timed out or returned a temporary failure."""


class GatewayConfigError(GatewayError):
    """Raised when the gateway's settings are invalid."""
