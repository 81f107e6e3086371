"""Creating the tickets of an approved job once its dispatch has started."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bolletta.platform import clock, tasks
from bolletta.platform.db.bulk import among, insert_rows
from bolletta.platform.db.models.tenant import Bill, Job, Message, Ticket
from bolletta.platform.dispatch import rules, suppression
from bolletta.platform.dispatch.batch import BATCH_SIZE
from bolletta.platform.dispatch.contacts import contacts_for_bills
from bolletta.platform.dispatch.sending import finish_dispatch_if_done
from bolletta.platform.jobs import notes, states
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

TICKET_BATCH_SIZE = 1_000
"""Bills whose tickets are inserted and committed together."""


def create_tickets(rt: Runtime, tenant: str, job_id: int) -> dict[str, int]:
    """Issue one ticket per accepted bill and usable contact, and queue each first message.

    Safe to run twice, also in parallel: a ticket that exists is not issued again. Returns the counts.
    """
    config = tenant_config(get_tenant(rt.db, tenant))
    validity = timedelta(days=config.ticket_validity_days)
    with rt.db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None or job.state not in (states.DISPATCHING, states.PAUSED):
            return _empty_counts()
        try:
            counts = _issue_tickets(session, tenant, job, config, validity)
        except IntegrityError:
            # A parallel delivery of this message committed the same tickets first (unique key).
            # Its commit is visible now, so a second pass finds them and issues none.
            session.rollback()
            logger.info("tenant %s: job %d tickets were issued by another worker", tenant, job_id)
            counts = _issue_tickets(session, tenant, job, config, validity)
        # The job report lists what dispatch skipped: contacts on the suppression list, bills without one.
        job.report = dict(job.report or {}) | {"dispatch": counts}
        if counts["issued"] == 0 and counts["existing"] == 0 and job.state == states.DISPATCHING:
            states.move(session, job, states.DISPATCHED, actor="system:dispatcher", note=notes.no_ticket_to_send())
            tasks.defer(session, "notify_job", tenant, job_id, states.DISPATCHED)
        session.commit()
        finish_dispatch_if_done(session, job_id)
    logger.info("tenant %s: job %d tickets: %s", tenant, job_id, counts)
    return counts


def _empty_counts() -> dict[str, int]:
    return {"bills": 0, "issued": 0, "existing": 0, "without_contact": 0, "no_channel": 0, "suppressed": 0}


def _issue_tickets(
    session: Session, tenant: str, job: Job, config: TenantConfig, validity: timedelta
) -> dict[str, int]:
    """Issue the job's tickets ``TICKET_BATCH_SIZE`` bills at a time, committing each batch."""
    counts = _empty_counts()
    last_id = 0
    while True:
        # Only the columns the tickets need: loading whole ``Bill`` objects cost more than inserting the tickets.
        bills = session.execute(
            select(Bill.id, Bill.job_id, Bill.customer_code, Bill.details)
            .where(Bill.job_id == job.id, Bill.id > last_id)
            .order_by(Bill.id)
            .limit(TICKET_BATCH_SIZE)
        ).all()
        if not bills:
            return counts
        last_id = bills[-1].id
        _issue_batch(session, tenant, bills, config, validity, counts)
        session.commit()
        session.expunge_all()
        session.add(job)


def _issue_batch(
    session: Session, tenant: str, bills: Sequence[Row[Any]], config: TenantConfig, validity: timedelta,
    counts: dict[str, int],
) -> None:
    """Bulk-insert the tickets and first messages of a batch of bills, skipping tickets that exist."""
    existing = {
        tuple(row)
        for row in session.execute(
            select(Ticket.bill_id, Ticket.channel, Ticket.address).where(
                among(session, Ticket.bill_id, [bill.id for bill in bills]),
                Ticket.is_test.is_(False),
                Ticket.test_round == 0,
            )
        )
    }
    now = clock.now()
    contacts_by_bill = contacts_for_bills(session, bills, config.contact_sources)
    blocked = suppression.suppressed_among(
        session, [(contact.channel, contact.address) for contacts in contacts_by_bill.values() for contact in contacts]
    )
    tickets: list[dict[str, Any]] = []
    plugins: list[str] = []
    for bill in bills:
        counts["bills"] += 1
        contacts = contacts_by_bill[bill.id]
        if not contacts:
            counts["without_contact"] += 1
        counts["no_channel"] += sum(1 for contact in contacts if not config.channel_plugins.get(contact.channel))
        chosen, skipped = rules.first_choices(config, contacts, blocked)
        counts["suppressed"] += len(skipped)
        by_email = _bill_by_email_contact(config, bill, contacts, blocked)
        if by_email is not None and by_email not in chosen:
            chosen.append(by_email)
        for contact in chosen:
            plugin = config.channel_plugins[contact.channel]
            if (bill.id, contact.channel, contact.address) in existing:
                counts["existing"] += 1
                continue
            tickets.append({
                "bill_id": bill.id, "job_id": bill.job_id, "channel": contact.channel, "address": contact.address,
                "is_test": False, "test_round": 0, "created_at": now, "expires_at": now + validity,
                "origin": "bill_email" if contact is by_email else "dispatch",
                # The status of the first message, inserted below: the trigger on messages then
                # finds nothing to change on the ticket.
                "latest_status": "created",
            })
            plugins.append(plugin)
    if not tickets:
        return

    # Ids are read back by unique key: RETURNING with parameter order makes SQLite insert row by row.
    insert_rows(session, Ticket, tickets)
    ticket_ids = dict(
        ((row.bill_id, row.channel, row.address), row.id)
        for row in session.execute(
            select(Ticket.id, Ticket.bill_id, Ticket.channel, Ticket.address).where(
                among(session, Ticket.bill_id, [bill.id for bill in bills]),
                Ticket.is_test.is_(False),
                Ticket.test_round == 0,
            )
        )
    )
    messages = []
    for ticket, plugin in zip(tickets, plugins, strict=True):
        ticket_id = ticket_ids[(ticket["bill_id"], ticket["channel"], ticket["address"])]
        messages.append({"ticket_id": ticket_id, "plugin": plugin, "status": "created", "origin": ticket["origin"],
                         "idempotency_key": f"ticket-{ticket_id}-1", "created_at": now, "updated_at": now})
    insert_rows(session, Message, messages)
    message_ids = session.scalars(
        select(Message.id).where(
            among(session, Message.idempotency_key, [message["idempotency_key"] for message in messages])
        )
    ).all()
    ids = sorted(message_ids)
    # Deferred before the sends, so a worker usually stores the summary page before the link arrives.
    rendered = sorted({ticket["bill_id"] for ticket in tickets})
    tasks.defer_many(session, "render_bill_pages", [(tenant, rendered[start:start + BATCH_SIZE])
                                                     for start in range(0, len(rendered), BATCH_SIZE)])
    tasks.defer_many(session, "send_messages", [(tenant, ids[start:start + BATCH_SIZE])
                                                 for start in range(0, len(ids), BATCH_SIZE)])
    counts["issued"] += len(message_ids)


def _bill_by_email_contact(config: TenantConfig, bill: Row[Any], contacts: Sequence[Any],
                           blocked: set[tuple[str, str]]) -> Any | None:
    """The e-mail contact that gets the bill itself ("Boll. x email"), or ``None``.

    Only for customers whose flow marks bill-by-e-mail active, when the tenant turned the service on.
    """
    if config.bills_by_email == "off" or not config.channel_plugins.get("email"):
        return None
    services = (bill.details or {}).get("customer", {}).get("services") or {}
    if not (isinstance(services, dict) and services.get("bill_by_email")):
        return None
    return next((c for c in contacts if c.channel == "email" and (c.channel, c.address) not in blocked), None)
