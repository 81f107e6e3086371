"""The data subject of an access or erasure request: one customer of one tenant, and the rows about them.

A customer is named by customer code or by fiscal code. A fiscal code can stand for several
customer codes (two supplies billed separately), so the request covers every bill with that fiscal
code and every customer code those bills carry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bolletta.platform import keys
from bolletta.platform.db.models.tenant import Bill, Contact, Message, Payment, Ticket
from bolletta.platform.errors import BollettaError, NotFound
from bolletta.platform.runtime import Runtime

PURPOSE_PSEUDONYM = "audit-pseudonym"
PSEUDONYM_LENGTH = 16
"""Hex characters of the pseudonym kept in the audit trail: 64 bits, enough to tell customers apart."""


class InvalidSubject(BollettaError):
    """Raised when a request names no customer, or names one in two ways at once."""


@dataclass(frozen=True)
class Subject:
    """The customer codes of one customer, with the ids of every row about them."""

    customer_codes: tuple[str, ...]
    bill_ids: tuple[int, ...]
    ticket_ids: tuple[int, ...]
    message_ids: tuple[int, ...]
    payment_ids: tuple[int, ...]
    contact_ids: tuple[int, ...]
    addresses: tuple[str, ...]
    """E-mail addresses and phone numbers from the customer's contacts and tickets."""


def find_subject(session: Session, *, customer_code: str | None = None, fiscal_code: str | None = None) -> Subject:
    """Collect the rows of the customer with ``customer_code`` or ``fiscal_code`` (exactly one).

    Raises:
        InvalidSubject: neither or both identifiers were given.
        NotFound: the tenant holds no bill and no contact for the customer.
    """
    customer_code = (customer_code or "").strip() or None
    fiscal_code = (fiscal_code or "").strip().upper() or None
    if (customer_code is None) == (fiscal_code is None):
        raise InvalidSubject("Give either a customer code or a fiscal code, not both and not neither.")
    if fiscal_code is not None:
        codes = set(session.scalars(select(Bill.customer_code).where(Bill.fiscal_code == fiscal_code)))
        bill_filter = or_(Bill.fiscal_code == fiscal_code, Bill.customer_code.in_(codes))
    else:
        codes = {customer_code} if customer_code else set()
        bill_filter = Bill.customer_code.in_(codes)
    bill_ids = tuple(session.scalars(select(Bill.id).where(bill_filter).order_by(Bill.id)))
    contacts = session.execute(select(Contact.id, Contact.address).where(Contact.customer_code.in_(codes))).all()
    if not bill_ids and not contacts:
        named = "fiscal code" if fiscal_code else "customer code"
        raise NotFound(f"No bill or contact found for this {named}. Check the value and the tenant.")
    tickets = session.execute(select(Ticket.id, Ticket.address).where(Ticket.bill_id.in_(bill_ids))).all()
    ticket_ids = tuple(row.id for row in tickets)
    return Subject(
        customer_codes=tuple(sorted(codes)),
        bill_ids=bill_ids,
        ticket_ids=ticket_ids,
        message_ids=tuple(session.scalars(select(Message.id).where(Message.ticket_id.in_(ticket_ids)))),
        payment_ids=tuple(session.scalars(select(Payment.id).where(Payment.bill_id.in_(bill_ids)))),
        contact_ids=tuple(row.id for row in contacts),
        addresses=tuple(sorted({row.address for row in contacts} | {row.address for row in tickets})),
    )


def pseudonym(rt: Runtime, tenant: str, subject: Subject) -> str:
    """Return a keyed hash of the subject's customer codes, for the audit trail in place of the codes.

    The same customer always gets the same pseudonym in one tenant, so staff holding the customer
    code can find the entries again, but the audit trail alone does not reveal who it was.
    """
    key = keys.derive_key(rt.secret, f"{PURPOSE_PSEUDONYM}:{tenant}")
    return keys.hmac_hex(key, "\n".join(subject.customer_codes))[:PSEUDONYM_LENGTH]
