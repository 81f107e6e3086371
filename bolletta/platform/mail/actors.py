"""Dramatiq actors for staff notification e-mails, each sent once per outbox row."""

from __future__ import annotations

from typing import Any

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.mail import notify
from bolletta.platform.mail.once import send_once


@dramatiq.actor(max_retries=5)
def notify_job(tenant: str, job_id: int, event: str) -> None:
    """E-mail a job event to the tenant's notification list."""
    rt = runtime.current()
    send_once(rt, tenant, lambda: notify.notify_job(rt, tenant, job_id, event))


@dramatiq.actor(max_retries=5)
def notify_upload(tenant: str, filename: str, problem: str, job_id: int | None = None) -> None:
    """E-mail an SFTP upload that opened no job."""
    rt = runtime.current()
    send_once(rt, tenant, lambda: notify.notify_upload(rt, tenant, filename, problem, job_id))


@dramatiq.actor(max_retries=5)
def notify_contacts_import(tenant: str, report: dict[str, Any]) -> None:
    """E-mail the report of a contacts directory import."""
    rt = runtime.current()
    send_once(rt, tenant, lambda: notify.notify_contacts_import(rt, tenant, report))
