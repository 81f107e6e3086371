"""Dramatiq actors of the job lifecycle; each takes ids and is safe to run twice."""

from __future__ import annotations

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.jobs import parsing, test_batch


@dramatiq.actor(max_retries=3, time_limit=3_600_000)
def parse_job(tenant: str, job_id: int) -> None:
    """Parse a received job's archive."""
    parsing.parse_job(runtime.current(), tenant, job_id)


@dramatiq.actor(max_retries=3)
def send_test_batch(tenant: str, job_id: int) -> None:
    """Queue the test batch of a parsed job."""
    test_batch.send_test_batch(runtime.current(), tenant, job_id)
