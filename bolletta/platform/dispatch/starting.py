"""Creating the tickets of an approved job once its dispatch has started."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bolletta.platform import tasks
from bolletta.platform.db.models.tenant import Bill, Job
from bolletta.platform.dispatch.contacts import contacts_for
from bolletta.platform.jobs import states
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.issuing import issue_ticket
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)


def create_tickets(rt: Runtime, tenant: str, job_id: int) -> dict[str, int]:
    """Issue one ticket per accepted bill and usable contact, and queue each first message.

    Safe to run twice, also in parallel: a ticket that exists is not issued again. Returns the counts.
    """
    config = tenant_config(get_tenant(rt.db, tenant))
    validity = timedelta(days=config.ticket_validity_days)
    with rt.db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None or job.state != states.DISPATCHING:
            return _empty_counts()
        try:
            counts = _issue_tickets(session, tenant, job, config, validity)
        except IntegrityError:
            # A parallel delivery of this message committed the same tickets first (unique key).
            # Its commit is visible now, so a second pass finds them and issues none.
            session.rollback()
            logger.info("tenant %s: job %d tickets were issued by another worker", tenant, job_id)
            counts = _issue_tickets(session, tenant, job, config, validity)
        if counts["issued"] == 0 and counts["existing"] == 0:
            states.move(session, job, states.DISPATCHED, actor="system:dispatcher", note="no ticket to send")
            tasks.defer(session, "notify_job", tenant, job_id, states.DISPATCHED)
        session.commit()
    logger.info("tenant %s: job %d tickets: %s", tenant, job_id, counts)
    return counts


def _empty_counts() -> dict[str, int]:
    return {"bills": 0, "issued": 0, "existing": 0, "without_contact": 0, "no_channel": 0}


def _issue_tickets(
    session: Session, tenant: str, job: Job, config: TenantConfig, validity: timedelta
) -> dict[str, int]:
    counts = _empty_counts()
    bills = session.scalars(select(Bill).where(Bill.job_id == job.id).order_by(Bill.id)).all()
    for bill in bills:
        counts["bills"] += 1
        contacts = contacts_for(session, bill)
        if not contacts:
            counts["without_contact"] += 1
        for contact in contacts:
            plugin = config.channel_plugins.get(contact.channel)
            if not plugin:
                counts["no_channel"] += 1
                continue
            message = issue_ticket(session, bill, channel=contact.channel, address=contact.address,
                                   plugin=plugin, validity=validity)
            if message is None:
                counts["existing"] += 1
                continue
            counts["issued"] += 1
            tasks.defer(session, "send_message", tenant, message.id)
    return counts
