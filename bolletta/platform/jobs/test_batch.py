"""The test batch ("Test di pre-produzione"): real links to the tenant's test recipients."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bolletta.platform import tasks
from bolletta.platform.db.models.tenant import Job, Ticket
from bolletta.platform.dispatch.sampling import sample_bills
from bolletta.platform.errors import InvalidTransition
from bolletta.platform.jobs import notes, states
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.issuing import issue_ticket
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)


def count_test_tickets(session: Session, job: Job) -> int:
    """Return how many test tickets the job's latest test batch issued; 0 means it reached nobody."""
    return session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.job_id == job.id, Ticket.is_test.is_(True), Ticket.test_round == job.test_round)) or 0


def send_test_batch(rt: Runtime, tenant: str, job_id: int) -> int:
    """Send a sample of the job's bills to every test recipient; return the messages queued.

    The sample covers each channel, service and language of the job (see
    :mod:`bolletta.platform.dispatch.sampling`).

    Test tickets are marked as such, expire sooner and never count in statistics.
    """
    config = tenant_config(get_tenant(rt.db, tenant))
    validity = timedelta(hours=config.test_ticket_validity_hours)
    queued = 0
    with rt.db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None or job.state != states.PARSED:
            return 0
        job.test_round += 1
        bills = sample_bills(session, job_id, config.test_batch_size)
        for bill in bills:
            for recipient in config.test_recipients:
                plugin = config.channel_plugins.get(recipient.channel)
                if not plugin:
                    continue
                message = issue_ticket(
                    session, bill, channel=recipient.channel, address=recipient.address, plugin=plugin,
                    validity=validity, is_test=True, test_round=job.test_round,
                )
                if message is not None:
                    queued += 1
                    tasks.defer(session, "send_message", tenant, message.id)
        note = notes.sent_to_test_recipients(queued, len(bills))
        if not config.test_recipients:
            note = notes.no_test_recipients()
            logger.warning("tenant %s: job %d test batch reached nobody, the tenant has no test recipients",
                           tenant, job_id)
        try:
            states.move(session, job, states.TEST_SENT, actor="system:test-batch", note=note)
        except InvalidTransition:
            # A second delivery of this message ran at the same time and sent the batch first.
            # Its tickets stand; ours roll back, so nothing is sent twice and no retry is needed.
            session.rollback()
            logger.info("tenant %s: job %d test batch already sent by another worker", tenant, job_id)
            return 0
        tasks.defer(session, "notify_job", tenant, job_id, states.TEST_SENT)
        session.commit()
    logger.info("tenant %s: job %d test batch round %d: %d messages", tenant, job_id, job.test_round, queued)
    return queued
