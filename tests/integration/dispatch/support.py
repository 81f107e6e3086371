"""Jobs built straight in the database for dispatch tests, so thousands of bills cost no parsing.

A job made here is ``approved`` with its bills and contacts; :func:`start` presses "Avvia inoltro"
as a platform admin, which issues the tickets and queues the sends.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from bolletta.platform import clock
from bolletta.platform.db.bulk import insert_rows
from bolletta.platform.db.models.tenant import Bill, Contact, Job, Message, Ticket
from bolletta.platform.jobs import states
from bolletta.platform.jobs.approval import Staff, start_dispatch
from bolletta.platform.runtime import Runtime

ADMIN = Staff(user_id=None, username="platform.admin", role="platform_admin", tenant=None, ip="127.0.0.1")


@dataclass(frozen=True)
class Customer:
    """One bill's customer and the contacts on file, as ``(channel, address)`` pairs."""

    contacts: Sequence[tuple[str, str]]
    service: str = "electricity"
    language: str | None = "it"
    """The bill's language from the flow."""
    contact_language: str | None = None
    """The language stored with each of the customer's contacts."""
    bill_by_email: bool = False
    pdf: bytes | None = None


def make_job(rt: Runtime, tenant: str, customers: Sequence[Customer], *, state: str = states.APPROVED) -> int:
    """Store an approved job with one bill per customer and their contacts; return the job id."""
    now = clock.now()
    with rt.db.tenant_session(tenant) as session:
        job = Job(state=state, filename="dispatch.zip", source="api", archive_sha256=secrets.token_hex(32),
                  archive_key="none", archive_size=0, opened_by="test", created_at=now, updated_at=now, report={},
                  test_round=1)
        session.add(job)
        session.flush()
        bills: list[dict[str, Any]] = []
        contacts: list[dict[str, Any]] = []
        for index, customer in enumerate(customers):
            code = f"C{job.id:04d}{index:06d}"
            bills.append({
                "public_id": secrets.token_hex(11), "job_id": job.id, "source_file": "f.xml", "body_index": index + 1,
                "document_number": f"D{job.id}-{index}", "series": "", "year": 2026, "document_type": "TD01",
                "issue_date": date(2026, 12, 1), "due_date": date(2026, 12, 31), "currency": "EUR",
                "total": Decimal("80.00"), "amount_due": Decimal("80.00"), "direct_debit": False,
                "payable_online": True, "service": customer.service, "seller_name": "ACME", "customer_code": code,
                "customer_name": f"Cliente {index}", "language": customer.language, "warnings": [],
                "details": {"customer": {"services": {"bill_by_email": customer.bill_by_email}}},
                "pdf_key": rt.storage.put(tenant, f"pdf/{job.id}/{index}.pdf", customer.pdf) if customer.pdf else None,
                "created_at": now,
            })
            contacts += [{"customer_code": code, "channel": channel, "address": address,
                          "language": customer.contact_language,
                          "source": "flow", "job_id": job.id, "created_at": now}
                         for channel, address in customer.contacts]
        insert_rows(session, Bill, bills)
        if contacts:
            insert_rows(session, Contact, contacts)
        session.commit()
        return job.id


def phone(index: int) -> str:
    """A fake Italian mobile number."""
    return f"+39333{index:07d}"


def start(rt: Runtime, tenant: str, job_id: int) -> None:
    """Press "Avvia inoltro" as a platform admin."""
    start_dispatch(rt, tenant, job_id, ADMIN)


def message_rows(rt: Runtime, tenant: str, job_id: int) -> list[tuple[Ticket, Message]]:
    """Every (ticket, message) of the job's dispatch, by message id."""
    with rt.db.tenant_session(tenant) as session:
        rows = session.execute(
            select(Ticket, Message).join(Message, Message.ticket_id == Ticket.id)
            .where(Ticket.job_id == job_id, Ticket.is_test.is_(False)).order_by(Message.id)
        ).all()
        session.expunge_all()
        return [(ticket, message) for ticket, message in rows]


def status_counts(rt: Runtime, tenant: str, job_id: int) -> dict[str, int]:
    """Messages of the job's dispatch by status."""
    with rt.db.tenant_session(tenant) as session:
        return dict(session.execute(
            select(Message.status, func.count()).join(Ticket, Ticket.id == Message.ticket_id)
            .where(Ticket.job_id == job_id, Ticket.is_test.is_(False)).group_by(Message.status)
        ).all())


def job_state(rt: Runtime, tenant: str, job_id: int) -> str:
    with rt.db.tenant_session(tenant) as session:
        return session.get_one(Job, job_id).state


def later(**delta: float) -> Any:
    """A clock source ``delta`` after now, for ``clock.use_clock``."""
    moment = clock.now() + timedelta(**delta)
    return lambda: moment
