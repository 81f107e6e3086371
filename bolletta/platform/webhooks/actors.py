"""Dramatiq actor sending webhook deliveries."""

from __future__ import annotations

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.webhooks.delivery import deliver


@dramatiq.actor(max_retries=0)
def deliver_webhook(tenant: str, delivery_id: int) -> None:
    """Make one attempt at a delivery; retries are scheduled in the database, not by the broker."""
    deliver(runtime.current(), tenant, delivery_id)
