"""Dramatiq actor for staff notification e-mails."""

from __future__ import annotations

from typing import Any

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.mail import notify


@dramatiq.actor(max_retries=5)
def notify_job(tenant: str, job_id: int, event: str) -> None:
    """E-mail a job event to the tenant's notification list."""
    notify.notify_job(runtime.current(), tenant, job_id, event)


@dramatiq.actor(max_retries=5)
def notify_upload(tenant: str, filename: str, problem: str, job_id: int | None = None) -> None:
    """E-mail an SFTP upload that opened no job."""
    notify.notify_upload(runtime.current(), tenant, filename, problem, job_id)


@dramatiq.actor(max_retries=5)
def notify_contacts_import(tenant: str, report: dict[str, Any]) -> None:
    """E-mail the report of a contacts directory import."""
    notify.notify_contacts_import(runtime.current(), tenant, report)
