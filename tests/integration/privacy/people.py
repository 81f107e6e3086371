"""Customers with a bill, PDFs and audio in storage, a contact, a ticket, messages, events and a payment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select

from bolletta.platform.db.models.tenant import (
    Bill,
    Contact,
    Event,
    Message,
    Payment,
    StoredMessage,
    Suppression,
    Ticket,
)
from bolletta.platform.runtime import Runtime
from tests.integration.stats.dataset import add_bill, add_job, add_payment, add_ticket, utc

IP_ADDRESS = "192.0.2.10"
USER_AGENT = "Mozilla/5.0 (Linux; Android 14)"


@dataclass(frozen=True)
class Customer:
    """Ids and values of one customer made by :func:`add_customer`."""

    code: str
    fiscal_code: str
    address: str
    bill_ids: tuple[int, ...]
    public_ids: tuple[str, ...]
    ticket_ids: tuple[int, ...]
    order_ids: tuple[str, ...]

    def storage_keys(self, tenant: str) -> list[str]:
        """The bill PDFs from the flow, the rendered PDFs, the audio files and the stored pages of the customer."""
        return [key for public_id in self.public_ids for key in (
            f"{tenant}/bills/{public_id}/fattura.pdf", f"{tenant}/rendered/v1/{public_id}.pdf",
            f"{tenant}/speech/{public_id}/it-0123456789.mp3", f"{tenant}/pages/{public_id}/0123456789.html")]


def add_customer(rt: Runtime, tenant: str, code: str, fiscal_code: str, *, bills: int = 1, gateway: str = "sandbox",
                 expires: str = "2030-01-01 00:00", paid: str | None = None,
                 event_at: str = "2025-01-10 10:00") -> Customer:
    """Store a customer with ``bills`` bills, each with its ticket, message, events and completed payment.

    Times are UTC ``YYYY-MM-DD HH:MM``: ``expires`` of the tickets, ``paid`` of the bills (unpaid when
    ``None``) and ``event_at`` of the events. The bills and contact are stored on 2025-01-09.
    """
    address = f"{code.lower()}@example.it"
    bill_ids: list[int] = []
    public_ids: list[str] = []
    ticket_ids: list[int] = []
    order_ids: list[str] = []
    with rt.db.tenant_session(tenant) as session:
        job = add_job(session, f"{code}.zip", "2025-01-09 08:00")
        session.add(Contact(customer_code=code, channel="email", address=address, source="flow", job_id=job.id,
                            created_at=utc("2025-01-09 08:00")))
        session.add(Suppression(channel="email", address=address, reason="unsubscribe",
                                created_at=utc("2025-01-12 08:00")))
        for number in range(bills):
            bill = add_bill(session, job, f"{code}/{number}", customer_code=code)
            bill.customer_name = f"Cliente {code}"
            bill.fiscal_code = fiscal_code
            bill.customer_address = "Via Roma 1, 00100 Roma"
            bill.supply_address = "Via Roma 1, 00100 Roma"
            bill.pod = "IT001E00000001"
            bill.paid_at = utc(paid) if paid else None
            bill.details = {"offer": "Luce Casa", "readings": [{"value": "1234"}]}
            bill.pdf_key = rt.storage.put(tenant, f"bills/{bill.public_id}/fattura.pdf", b"%PDF-1.4 flow")
            rt.storage.put(tenant, f"rendered/v1/{bill.public_id}.pdf", b"%PDF-1.4 rendered")
            rt.storage.put(tenant, f"speech/{bill.public_id}/it-0123456789.mp3", b"ID3 audio")
            ticket = add_ticket(session, job, bill, "email", "2025-01-10 09:00", ("failed",), address=address,
                                expires=expires)
            message = session.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
            message.error = f"550 mailbox {address} unavailable"
            session.add(StoredMessage(plugin="outbox", kind="email", to_address=address, subject="La tua bolletta",
                                      text=f"Gentile Cliente {code}", idempotency_key=message.idempotency_key,
                                      created_at=utc("2025-01-10 09:00")))
            session.add(Event(ticket_id=ticket.id, bill_id=bill.id, kind="link_opened", at=utc(event_at),
                              channel="email", data={"method": "GET", "ip": IP_ADDRESS, "user_agent": USER_AGENT}))
            payment = add_payment(session, bill, "completed", "2025-01-11 10:00")
            payment.gateway = gateway
            bill_ids.append(bill.id)
            public_ids.append(bill.public_id)
            ticket_ids.append(ticket.id)
            order_ids.append(payment.order_id)
        session.commit()
    # After the commit, which drops the stored pages of the bills it changed.
    for public_id in public_ids:
        rt.storage.put(tenant, f"pages/{public_id}/0123456789.html", b"<!DOCTYPE html>")
    return Customer(code=code, fiscal_code=fiscal_code, address=address, bill_ids=tuple(bill_ids),
                    public_ids=tuple(public_ids), ticket_ids=tuple(ticket_ids), order_ids=tuple(order_ids))


def snapshot(rt: Runtime, tenant: str, customer: Customer) -> dict[str, list[dict[str, Any]]]:
    """Every column of every row about ``customer``, to compare before and after a request."""
    with rt.db.tenant_session(tenant) as session:
        ticket_ids = customer.ticket_ids
        queries = {
            "bills": select(Bill).where(Bill.id.in_(customer.bill_ids)),
            "contacts": select(Contact).where(Contact.customer_code == customer.code),
            "tickets": select(Ticket).where(Ticket.id.in_(ticket_ids)),
            "messages": select(Message).where(Message.ticket_id.in_(ticket_ids)),
            "stored_messages": select(StoredMessage).where(StoredMessage.to_address == customer.address),
            "events": select(Event).where(Event.bill_id.in_(customer.bill_ids)),
            "payments": select(Payment).where(Payment.bill_id.in_(customer.bill_ids)),
        }
        return {name: [_columns(row) for row in session.scalars(query)] for name, query in queries.items()}


def _columns(row: Any) -> dict[str, Any]:
    return {attribute.key: getattr(row, attribute.key) for attribute in inspect(type(row)).column_attrs}
