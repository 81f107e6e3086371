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
from bolletta.platform.jobs.own_work import JobWork
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import all_tenant_slugs

QUEUE_WAIT_MS = 60_000
"""How long a command waits for the work it queued before it gives up."""
MAIL_ACTORS = ("notify_job", "notify_upload", "notify_contacts_import")
"""Actors that send staff e-mail (``bolletta/platform/mail/actors.py``), so SMTP may hold them up."""


def wait_for_queue(rt: Runtime, broker: Broker, timeout_ms: int | None = None, *, work: JobWork | None = None) -> None:
    """Wait until the in-memory queue is empty; on timeout raise a :class:`click.ClickException`.

    The exception names the work still pending: every tenant's, or only the rows of ``work``. When a
    staff e-mail is among it, it also names the SMTP server they go to, because an unreachable server
    is the usual reason: the mail actors retry with backoff.
    """
    timeout = QUEUE_WAIT_MS if timeout_ms is None else timeout_ms
    try:
        workers.wait_idle(broker, timeout_ms=timeout)
    except QueueJoinTimeout as exc:
        raise click.ClickException(timeout_message(rt, timeout, pending_work(rt, work))) from exc


def pending_work(rt: Runtime, work: JobWork | None = None) -> Counter[str]:
    """Count the outbox rows not finished yet, by actor name, over every tenant or only those of ``work``."""
    counts: Counter[str] = Counter()
    slugs = all_tenant_slugs(rt.db) if work is None else [work.tenant]
    for slug in slugs:
        query = select(OutboxTask.actor).where(OutboxTask.done_at.is_(None))
        if work is not None:
            query = query.where(work.condition(slug))
        with rt.db.tenant_session(slug) as session:
            counts.update(session.scalars(query))
    return counts


def timeout_message(rt: Runtime, timeout_ms: int, pending: Counter[str]) -> str:
    """Return the message for queued work that did not finish in ``timeout_ms``, naming ``pending``."""
    listed = ", ".join(f"{actor} ({count})" for actor, count in sorted(pending.items())) or "none recorded"
    message = (
        f"Queued work did not finish within {timeout_ms / 1000:.0f} s. Still pending: {listed}. "
        "It stays in the task outbox and runs again when a Bolletta Smart process next starts on this "
        "data folder."
    )
    if not any(actor in MAIL_ACTORS for actor in pending):
        return message
    return (
        f"{message} Staff e-mails go to BOLLETTA_SMTP_URL ({_without_credentials(rt.settings.smtp_url)}): "
        "check that an SMTP server listens there. When the demo runs with another --smtp-port, set "
        "BOLLETTA_SMTP_URL=smtp://127.0.0.1:<that port> before running bolletta commands."
    )


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"
