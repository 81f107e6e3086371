"""Releasing a rejected or failed job, so that a new job can carry the same archive and documents.

A rejected test batch means the bills must not reach customers as they are: the utility fixes the
cause (test recipients, amounts, the flow itself) and sends the documents again, in the same archive
or in a new one. Those documents keep their numbers, so the rejected job must stop blocking the
archive and the numbers. Nothing is deleted: the job, its report and history, its test tickets and
its bills stay for the audit trail and for the office's searches. The job gets a ``released_at``
time and its bills a ``withdrawn_at`` time instead, and the two unique keys (archive SHA-256,
document number with series and year) cover only the rows without them. A failed job stores no
bills, but its archive is released in the same way.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Job


def release_job(session: Session, job: Job) -> int:
    """Release ``job`` and withdraw its bills in the caller's transaction; return the bills withdrawn."""
    now = clock.now()
    job.released_at = now
    result = session.execute(
        update(Bill)
        .where(Bill.job_id == job.id, Bill.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
