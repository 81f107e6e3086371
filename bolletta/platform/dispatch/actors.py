"""Dramatiq actors of the dispatch; each takes ids and is safe to run twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dramatiq

from bolletta.channels.errors import ChannelUnavailable
from bolletta.platform import runtime
from bolletta.platform.dispatch import batch, sending, starting

MAX_RETRY_AFTER_MS = 600_000
"""Longest wait a provider's ``Retry-After`` may impose before the next attempt."""


@contextmanager
def _provider_pace() -> Iterator[None]:
    """Retry after the delay the provider asked for (HTTP 429 or 503 ``Retry-After``), if it asked.

    Without one, the actor's exponential backoff applies.
    """
    try:
        yield
    except ChannelUnavailable as exc:
        if exc.retry_after is None:
            raise
        delay = min(int(exc.retry_after * 1000) + 100, MAX_RETRY_AFTER_MS)
        raise dramatiq.Retry(str(exc), delay=delay) from exc


def _paced(function: Callable[[], object]) -> None:
    with _provider_pace():
        function()


@dramatiq.actor(max_retries=3, time_limit=3_600_000)
def create_tickets(tenant: str, job_id: int) -> None:
    """Issue the tickets of a job whose dispatch started."""
    starting.create_tickets(runtime.current(), tenant, job_id)


@dramatiq.actor(max_retries=10, min_backoff=5_000, max_backoff=600_000)
def send_message(tenant: str, message_id: int) -> None:
    """Hand one message to its channel plugin."""
    _paced(lambda: sending.send_message(runtime.current(), tenant, message_id))


@dramatiq.actor(max_retries=12, min_backoff=1_000, max_backoff=600_000, time_limit=900_000)
def send_messages(tenant: str, message_ids: list[int]) -> None:
    """Hand a batch of a dispatch's messages to their channel plugins."""
    _paced(lambda: batch.send_messages(runtime.current(), tenant, message_ids))
