"""The task outbox rows that are one job's own work, for a command that runs only that job.

``bolletta job import`` without a broker runs a worker in its own process. The demo or
``bolletta serve`` may run on the same data folder at the same time, with their own queued work, so
the command relays only the rows that :class:`JobWork` matches and leaves every other row to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select

from bolletta.platform.db.models.tenant import Message, OutboxTask, Ticket

JOB_ACTORS = ("parse_job", "send_test_batch", "synthesize_job_speech", "notify_job")
"""Actors whose arguments are the tenant, the job id and maybe more."""

MESSAGE_ACTOR = "send_message"
"""Actor whose arguments are the tenant and a message id; the job's own when the message's ticket is."""


@dataclass(frozen=True)
class JobWork:
    """The outbox rows of job ``job_id`` of ``tenant``; ``job_id`` ``None`` matches no row."""

    tenant: str
    job_id: int | None

    def condition(self, tenant: str) -> ColumnElement[bool]:
        """Return the SQL condition on :class:`OutboxTask` rows of ``tenant`` that are this job's work.

        NOTE: rows whose arguments name neither the job nor one of its messages are not matched: a
        webhook delivery of a job event, the speech of single bills. They wait for the next process
        that relays every row, such as the demo, ``bolletta serve`` or ``bolletta worker``.
        """
        if tenant != self.tenant or self.job_id is None:
            return false()
        job_messages = select(Message.id).join(Ticket, Ticket.id == Message.ticket_id).where(
            Ticket.job_id == self.job_id)
        return or_(
            and_(OutboxTask.actor.in_(JOB_ACTORS), OutboxTask.args[1].as_integer() == self.job_id),
            and_(OutboxTask.actor == MESSAGE_ACTOR, OutboxTask.args[1].as_integer().in_(job_messages)),
        )
