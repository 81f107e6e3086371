"""Dramatiq actor that plays the sandbox gateway's server-to-server notification."""

from __future__ import annotations

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.payments import sandbox_notify


@dramatiq.actor(max_retries=5, min_backoff=1_000)
def post_sandbox_notification(tenant: str, order_id: str, status: str) -> None:
    """Post the signed notification of a sandbox payment to our own webhook."""
    sandbox_notify.post_notification(runtime.current(), tenant, order_id, status)
