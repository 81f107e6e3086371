"""Job states and the only transitions between them.

``received`` → ``parsing`` → ``parsed`` (or ``failed``) → ``test_sent`` → ``approved`` (or
``test_rejected``) → ``dispatching`` ⇄ ``paused`` → ``dispatched``; ``cancelled`` from any state
before ``dispatching``. Every change is a compare-and-set on the current state, so two workers
handling the same message cannot both move the job.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Job, JobTransition
from bolletta.platform.errors import InvalidTransition
from bolletta.platform.i18n.message import Text
from bolletta.platform.jobs import notes
from bolletta.platform.webhooks.events import emit

RECEIVED = "received"
PARSING = "parsing"
PARSED = "parsed"
FAILED = "failed"
TEST_SENT = "test_sent"
TEST_REJECTED = "test_rejected"
APPROVED = "approved"
DISPATCHING = "dispatching"
PAUSED = "paused"
DISPATCHED = "dispatched"
CANCELLED = "cancelled"

ALLOWED: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({PARSING, CANCELLED}),
    PARSING: frozenset({PARSED, FAILED, CANCELLED}),
    PARSED: frozenset({TEST_SENT, PARSING, CANCELLED}),
    # A failed or rejected job has released its archive and bills to a new job (see withdrawal),
    # so it never parses or sends a test batch again.
    FAILED: frozenset({CANCELLED}),
    TEST_SENT: frozenset({APPROVED, TEST_REJECTED, CANCELLED}),
    TEST_REJECTED: frozenset({CANCELLED}),
    APPROVED: frozenset({DISPATCHING, CANCELLED}),
    DISPATCHING: frozenset({PAUSED, DISPATCHED}),
    PAUSED: frozenset({DISPATCHING}),
    DISPATCHED: frozenset(),
    CANCELLED: frozenset(),
}


def move(session: Session, job: Job, to_state: str, *, actor: str, note: Text | str = "") -> None:
    """Move ``job`` to ``to_state`` if its stored state still allows it, recording who did it.

    ``note`` is a system note built by :mod:`bolletta.platform.jobs.notes`, or a reason a staff
    member typed, stored as typed.

    Raises:
        InvalidTransition: the transition is not allowed, or another worker moved the job first.
    """
    from_state = job.state
    if to_state not in ALLOWED.get(from_state, frozenset()):
        raise InvalidTransition(f"Job #{job.id} cannot go from {from_state} to {to_state}.")
    now = clock.now()
    result = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.state == from_state)
        .values(state=to_state, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransition(f"Job #{job.id} is no longer {from_state}; another worker moved it.")
    job.state = to_state
    job.updated_at = now
    session.add(JobTransition(job_id=job.id, from_state=from_state, to_state=to_state, at=now,
                              actor=actor, note=notes.stored(note)))
    emit(session, "job.state_changed", f"job:{job.id}",
         {"job_id": job.id, "from_state": from_state, "to_state": to_state, "filename": job.filename})
