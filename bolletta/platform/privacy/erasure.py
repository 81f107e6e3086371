"""Erase or anonymise what the tenant stores about one customer, keeping the accounting records.

Kept as they are: each bill's document number, series, year, type, dates and amounts, its
instalments and cost lines, its customer code, and the payments with their notifications. The
utility's own archive holds the invoices, so the portal's copy of who the customer is can go:

- contacts are deleted, and the outbox copies of the messages sent to the customer;
- tickets lose their address and are revoked, so the links stop working; messages lose the
  provider's error text, which can repeat the number or address;
- bills lose the name, fiscal code, VAT number, addresses, POD/PDR, smart-bill details and warnings;
- the bill PDFs from the flow, the rendered PDFs and the audio are deleted from storage;
- events lose the personal values in their data (IP address, user agent, address);
- each payment's gateway plugin is asked to remove what it keeps outside the platform.

Suppressions stay: they are how the tenant keeps honouring an opt-out if the address comes back
in a later flow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bolletta.gateways.errors import GatewayError
from bolletta.platform import audit, clock
from bolletta.platform.db.models.tenant import Bill, Contact, Event, Message, Payment, StoredMessage, Ticket
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.payments.attempts import as_attempt
from bolletta.platform.payments.gateways import gateway_for
from bolletta.platform.privacy.export import Requester
from bolletta.platform.privacy.files import delete_bill_files
from bolletta.platform.privacy.subjects import Subject, pseudonym
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

PERSONAL_EVENT_KEYS = frozenset({"ip", "user_agent", "address", "to", "email", "phone", "name"})
"""Keys of ``Event.data`` whose values identify a person; the rest (section, gateway, order id) stays."""
ERASED_ADDRESS = "erased:{ticket_id}"
"""A ticket's address after erasure; the ticket id keeps it unique per bill and channel."""


@dataclass
class ErasureResult:
    """Counts of the rows and files an erasure changed, and the gateways that failed to remove their data."""

    counts: dict[str, int] = field(default_factory=dict)
    gateway_failures: list[str] = field(default_factory=list)
    """``<gateway>:<order id>`` of each payment whose plugin failed; staff follow up with the provider."""


def erase_subject(rt: Runtime, tenant: str, subject: Subject, requester: Requester) -> ErasureResult:
    """Erase the subject's personal data, audit it under a pseudonym and return what changed.

    Files are deleted before the database commit. A failed commit then leaves bills that point to
    deleted PDFs, and running the erasure again finishes the job. The other order could leave a
    bill's PDF behind with no row that points to it.
    """
    result = ErasureResult()
    result.gateway_failures = _scrub_gateways(rt, tenant, subject)
    with rt.db.tenant_session(tenant) as session:
        storage_keys = _bill_storage_keys(session, subject)
        result.counts["contacts"] = _delete_contacts(session, subject)
        result.counts["stored_messages"] = _delete_stored_messages(session, subject)
        result.counts["tickets"] = _anonymise_tickets(session, subject)
        result.counts["events"] = _strip_events(session, subject)
        result.counts["bills"] = _anonymise_bills(session, subject)
        session.execute(update(Message).where(Message.id.in_(subject.message_ids)).values(error=None))
        result.counts["payments_scrubbed"] = len(subject.payment_ids) - len(result.gateway_failures)
        result.counts["files"] = delete_bill_files(rt, tenant, storage_keys)
        audit.record(session, actor=requester.username, user_id=requester.user_id, ip=requester.ip,
                     action="customer.erase", target=f"customer:{pseudonym(rt, tenant, subject)}",
                     detail={"counts": result.counts, "gateway_failures": result.gateway_failures})
        session.commit()
    logger.info("tenant %s: erased the data of customer %s: %s", tenant, pseudonym(rt, tenant, subject),
                ", ".join(f"{name} {count}" for name, count in result.counts.items()))
    return result


def _scrub_gateways(rt: Runtime, tenant: str, subject: Subject) -> list[str]:
    config = tenant_config(get_tenant(rt.db, tenant))
    with rt.db.tenant_session(tenant) as session:
        payments = list(session.scalars(select(Payment).where(Payment.id.in_(subject.payment_ids))))
        attempts = [(payment.gateway, as_attempt(payment)) for payment in payments]
    failures: list[str] = []
    for gateway_id, attempt in attempts:
        try:
            gateway_for(rt, tenant, config, gateway_id).scrub_personal_data(attempt)
        except (ConfigurationError, GatewayError) as exc:
            logger.warning("tenant %s: gateway %s could not remove the data of payment %s: %s", tenant,
                           gateway_id, attempt.order_id, exc)
            failures.append(f"{gateway_id}:{attempt.order_id}")
    return failures


def _bill_storage_keys(session: Session, subject: Subject) -> list[tuple[str, str | None]]:
    """Return each bill's public id with the storage key of its PDF from the flow."""
    rows = session.execute(select(Bill.public_id, Bill.pdf_key).where(Bill.id.in_(subject.bill_ids)))
    return [(public_id, pdf_key) for public_id, pdf_key in rows]


def _delete_contacts(session: Session, subject: Subject) -> int:
    deleted = session.execute(delete(Contact).where(Contact.id.in_(subject.contact_ids)))
    return int(deleted.rowcount)  # type: ignore[attr-defined]


def _delete_stored_messages(session: Session, subject: Subject) -> int:
    keys = select(Message.idempotency_key).where(Message.id.in_(subject.message_ids))
    deleted = session.execute(delete(StoredMessage).where(StoredMessage.idempotency_key.in_(keys)))
    return int(deleted.rowcount)  # type: ignore[attr-defined]


def _anonymise_tickets(session: Session, subject: Subject) -> int:
    now = clock.now()
    tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_(subject.ticket_ids))))
    for ticket in tickets:
        ticket.address = ERASED_ADDRESS.format(ticket_id=ticket.id)
        ticket.revoked_at = ticket.revoked_at or now
    return len(tickets)


def _strip_events(session: Session, subject: Subject) -> int:
    events = session.scalars(select(Event).where(
        Event.ticket_id.in_(subject.ticket_ids) | Event.bill_id.in_(subject.bill_ids)))
    changed = 0
    for event in events:
        data = event.data or {}
        if PERSONAL_EVENT_KEYS & data.keys():
            event.data = {key: value for key, value in data.items() if key not in PERSONAL_EVENT_KEYS}
            changed += 1
    return changed


def _anonymise_bills(session: Session, subject: Subject) -> int:
    erased = session.execute(
        update(Bill).where(Bill.id.in_(subject.bill_ids)).values(
            customer_name="", fiscal_code=None, vat_number=None, customer_address=None, supply_address=None,
            pod=None, pdr=None, details={}, warnings=[], pdf_key=None,
        )
    )
    return int(erased.rowcount)  # type: ignore[attr-defined]
