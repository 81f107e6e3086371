"""Dramatiq actors of the dispatch; each takes ids and is safe to run twice."""

from __future__ import annotations

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.dispatch import batch, sending, starting


@dramatiq.actor(max_retries=3, time_limit=3_600_000)
def create_tickets(tenant: str, job_id: int) -> None:
    """Issue the tickets of a job whose dispatch started."""
    starting.create_tickets(runtime.current(), tenant, job_id)


@dramatiq.actor(max_retries=10, min_backoff=5_000, max_backoff=600_000)
def send_message(tenant: str, message_id: int) -> None:
    """Hand one message to its channel plugin."""
    sending.send_message(runtime.current(), tenant, message_id)


@dramatiq.actor(max_retries=12, min_backoff=1_000, max_backoff=600_000, time_limit=900_000)
def send_messages(tenant: str, message_ids: list[int]) -> None:
    """Hand a batch of a dispatch's messages to their channel plugins."""
    batch.send_messages(runtime.current(), tenant, message_ids)
