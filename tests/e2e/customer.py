"""A customer's visit, driven over HTTP: open the link, read the summary, pay with the sandbox.

Shared by the end-to-end tests on SQLite and on PostgreSQL + Redis, so the flow is written once.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from decimal import Decimal

import httpx
from sqlalchemy import select

from bolletta.platform.db.models.tenant import Bill, Event, Payment, Ticket
from bolletta.platform.demo.run import DemoResult
from bolletta.platform.demo.tenant import DEMO_SLUG

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
PAID_TIMEOUT_SECONDS = 30.0


@dataclass
class Visit:
    """What the customer saw and did."""

    bill: Bill
    ticket: Ticket
    summary_html: str
    paid_html: str
    payment: Payment
    event_kinds: list[str]
    first_instalment_amount: Decimal


def _ticket_of(result: DemoResult, link: str) -> tuple[Ticket, Bill]:
    from bolletta.platform.tickets.tokens import token_hash

    token = link.rsplit("/", 1)[1]
    with result.stack.rt.db.tenant_session(DEMO_SLUG) as session:
        stored = token_hash(result.stack.rt.ticket_key, token)
        ticket = session.scalar(select(Ticket).where(Ticket.token_hash == stored))
        assert ticket is not None, "the link's token matches no stored ticket"
        bill = session.get_one(Bill, ticket.bill_id)
        bill.instalments  # noqa: B018 (loaded while the session is open)
        return ticket, bill


def payable_link(result: DemoResult) -> str:
    """The first customer link whose bill can be paid online."""
    for _channel, _recipient, link in result.customer_links:
        _ticket, bill = _ticket_of(result, link)
        if bill.payable_online and bill.paid_at is None and bill.due_date is not None and len(bill.instalments) <= 1:
            return link
    raise AssertionError("the demo sent no link to a payable bill")


def visit_and_pay(result: DemoResult, link: str) -> Visit:
    """Open ``link`` as a customer, check the summary, pay with the sandbox and wait until paid."""
    ticket, bill = _ticket_of(result, link)
    with httpx.Client(base_url=result.stack.base_url, follow_redirects=False, timeout=30) as client:
        opened = client.get(link)
        assert opened.status_code == 303, opened.text
        assert opened.headers["location"] == f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario"

        summary = client.get(opened.headers["location"])
        assert summary.status_code == 200
        csrf = CSRF_FIELD.search(summary.text)
        assert csrf is not None, "the summary has no payment form"

        pay = client.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                          data={"gateway": "sandbox", "_csrf_token": csrf.group(1)})
        assert pay.status_code == 303, pay.text
        sandbox_path = httpx.URL(pay.headers["location"]).path
        page = client.get(sandbox_path)
        assert page.status_code == 200
        confirm = client.post(sandbox_path, data={"outcome": "pay", "_csrf_token": csrf.group(1)})
        assert confirm.status_code == 303

        paid_html = _wait_until_paid(client, result, bill)
    _wait_until_viewed(result, ticket)
    with result.stack.rt.db.tenant_session(DEMO_SLUG) as session:
        payment = session.scalars(select(Payment).where(Payment.bill_id == bill.id)).one()
        # Page views are written in the background, so an event's id can come after later events' ids.
        kinds = list(session.scalars(select(Event.kind).where(Event.ticket_id == ticket.id)
                                     .order_by(Event.at, Event.id)))
        ticket = session.get_one(Ticket, ticket.id)
        bill = session.get_one(Bill, bill.id)
        first = min(bill.instalments, key=lambda item: item.position, default=None)
        first_amount = first.amount if first else bill.amount_due
    return Visit(bill=bill, ticket=ticket, summary_html=summary.text, paid_html=paid_html, payment=payment,
                 event_kinds=kinds, first_instalment_amount=first_amount)


def _wait_until_viewed(result: DemoResult, ticket: Ticket) -> None:
    """Wait for the background writer to store the visit's page views (it writes a few times a second)."""
    deadline = time.monotonic() + PAID_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with result.stack.rt.db.tenant_session(DEMO_SLUG) as session:
            if session.scalar(select(Ticket.first_viewed_at).where(Ticket.id == ticket.id)) is not None:
                return
        time.sleep(0.1)
    raise AssertionError(f"the views of ticket {ticket.id} were not written within {PAID_TIMEOUT_SECONDS} s")


def _wait_until_paid(client: httpx.Client, result: DemoResult, bill: Bill) -> str:
    deadline = time.monotonic() + PAID_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with result.stack.rt.db.tenant_session(DEMO_SLUG) as session:
            paid_at = session.scalar(select(Bill.paid_at).where(Bill.id == bill.id))
        if paid_at is not None:
            return client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario").text
        time.sleep(0.1)
    raise AssertionError(f"bill {bill.document_number} was not paid within {PAID_TIMEOUT_SECONDS} s")
