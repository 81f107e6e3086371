"""The signature of a webhook delivery, and how a receiver checks it.

Every request carries ``Bolletta-Signature: t=<unix seconds>,v1=<hex>``, where the hex string is the
HMAC-SHA256, keyed with the endpoint's secret, of the timestamp, a full stop and the raw request
body. A receiver recomputes it over the bytes it received (before any JSON parsing), compares in
constant time, and rejects a timestamp older than a few minutes so a captured request cannot be
replayed later. ``Bolletta-Delivery`` carries the delivery id, the same on every retry, so a
receiver can drop a delivery it already processed.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Bolletta-Signature"
DELIVERY_HEADER = "Bolletta-Delivery"
EVENT_HEADER = "Bolletta-Event"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the ``Bolletta-Signature`` header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Return whether ``header`` signs ``body`` with ``secret`` and is at most ``tolerance`` seconds old."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
