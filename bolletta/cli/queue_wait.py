"""Waiting for the in-memory queue at the end of a CLI command, with a clear message when it times out."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import click
from dramatiq.broker import Broker
from dramatiq.errors import QueueJoinTimeout
from sqlalchemy import select

from bolletta.platform import workers
from bolletta.platform.db.models.tenant import OutboxTask
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import all_tenant_slugs

QUEUE_WAIT_MS = 60_000
"""How long a command waits for the work it queued before it gives up."""


def wait_for_queue(rt: Runtime, broker: Broker, timeout_ms: int | None = None) -> None:
    """Wait until the in-memory queue is empty; on timeout raise a :class:`click.ClickException`.

    The exception names the work still pending and the SMTP server the staff e-mails go to,
    because an unreachable server is the usual reason: the mail actors retry with backoff.
    """
    timeout = QUEUE_WAIT_MS if timeout_ms is None else timeout_ms
    try:
        workers.wait_idle(broker, timeout_ms=timeout)
    except QueueJoinTimeout as exc:
        raise click.ClickException(_timeout_message(rt, timeout)) from exc


def pending_work(rt: Runtime) -> Counter[str]:
    """Count the outbox rows not finished yet, by actor name, over every tenant."""
    counts: Counter[str] = Counter()
    for slug in all_tenant_slugs(rt.db):
        with rt.db.tenant_session(slug) as session:
            counts.update(session.scalars(select(OutboxTask.actor).where(OutboxTask.done_at.is_(None))))
    return counts


def _timeout_message(rt: Runtime, timeout_ms: int) -> str:
    pending = pending_work(rt)
    listed = ", ".join(f"{actor} ({count})" for actor, count in sorted(pending.items())) or "none recorded"
    return (
        f"Queued work did not finish within {timeout_ms / 1000:.0f} s. Still pending: {listed}. "
        "It stays in the task outbox and runs again when a Bolletta Smart process next starts on this "
        f"data folder. Staff e-mails go to BOLLETTA_SMTP_URL ({_without_credentials(rt.settings.smtp_url)}): "
        "check that an SMTP server listens there. When the demo runs with another --smtp-port, set "
        "BOLLETTA_SMTP_URL=smtp://127.0.0.1:<that port> before running bolletta commands."
    )


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"
