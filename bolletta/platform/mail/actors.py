"""Dramatiq actor for staff notification e-mails."""

from __future__ import annotations

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.mail import notify


@dramatiq.actor(max_retries=5)
def notify_job(tenant: str, job_id: int, event: str) -> None:
    """E-mail a job event to the tenant's notification list."""
    notify.notify_job(runtime.current(), tenant, job_id, event)
