"""Withdrawing the bills of a rejected job so that a new job can carry the same documents.

A rejected test batch means the bills must not reach customers as they are: the utility fixes the
cause (test recipients, amounts, the flow itself) and sends the documents again. Those documents keep
their numbers, so the rejected job's bills must stop counting as the holders of those numbers. They
are not deleted: the job, its report, its test tickets and the bills themselves stay for the audit
trail and for the office's searches. They get a ``withdrawn_at`` time instead, and the bills' unique
key covers only the bills not withdrawn.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill


def withdraw_bills(session: Session, job_id: int) -> int:
    """Mark the job's bills withdrawn, in the caller's transaction; return how many were marked."""
    result = session.execute(
        update(Bill)
        .where(Bill.job_id == job_id, Bill.withdrawn_at.is_(None))
        .values(withdrawn_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
