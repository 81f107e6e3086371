"""Access to the running demo for the customer-page tests: tickets, bills, payments and events.

The demo runs once for the whole folder, so each test claims its tickets and bills from
:class:`Portal`. Tests that count views get tickets no other test opens. Payment tests get bills
with no attempt open and check only the events of their own attempt, so the tests pass in any order.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from bolletta.gateways.sandbox import SandboxGateway
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Event, Instalment, Payment, Ticket
from bolletta.platform.demo.run import DemoResult
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.payments.gateways import gateway_for
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.tokens import token_hash
from bolletta.tenants.registry import get_tenant, tenant_config

CSRF_FIELD = re.compile(r'<input type="hidden" name="_csrf_token" value="([^"]*)">')
PAY_FORM = re.compile(r'<form method="post" action="/c/[^/]+/b/[^/]+/paga"')
OTHER_SLUG = "beta"
"""A second tenant with the sandbox gateway and no bills."""
CSRF_COOKIE = "csrf"
"""Name of the CSRF cookie with ``cookie_secure`` off (no ``__Host-`` prefix)."""
WAIT_TIMEOUT_SECONDS = 20.0
HTTP_TIMEOUT_SECONDS = 15.0


@dataclass
class Portal:
    """The demo's stack, plus the tokens and bills that tests have not claimed yet."""

    result: DemoResult
    tokens: list[str] = field(default_factory=list)
    """Tokens of the customer links, in the order the demo sent them."""
    free_tokens: list[str] = field(default_factory=list)
    """Customer tokens whose ticket no test has opened yet."""
    free_test_tokens: list[str] = field(default_factory=list)
    """Tokens of the links the test batch sent to the tenant's test recipients."""

    def __post_init__(self) -> None:
        self.free_tokens = list(self.tokens)

    @property
    def rt(self) -> Runtime:
        return self.result.stack.rt

    @property
    def base_url(self) -> str:
        return self.result.stack.base_url

    def client(self) -> httpx.Client:
        """A new browser: no cookies, redirects not followed."""
        return httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=HTTP_TIMEOUT_SECONDS)

    def claim_token(self, matches: Callable[[Bill], bool] = lambda _bill: True) -> tuple[str, Bill]:
        """Hand out an unopened customer token whose bill matches ``matches``, with that bill."""
        for token in self.free_tokens:
            bill = self.bill(self.ticket(token).bill_id)
            if matches(bill):
                self.free_tokens.remove(token)
                return token, bill
        raise AssertionError("no unopened customer link left for the requested kind of bill")

    def reuse_token(self, matches: Callable[[Bill], bool]) -> tuple[str, Bill]:
        """Hand out a customer token whose bill matches ``matches``, for tests that do not count views.

        A token another test already opened is preferred, so unopened ones stay for the view tests.
        """
        opened = [token for token in self.tokens if token not in self.free_tokens]
        for token in opened + self.free_tokens:
            bill = self.bill(self.ticket(token).bill_id)
            if matches(bill):
                if token in self.free_tokens:
                    self.free_tokens.remove(token)
                return token, bill
        raise AssertionError("the demo sent no customer link for the requested kind of bill")

    def claim_bill_to_pay(self, unpaid_instalments: int = 1) -> tuple[str, Bill]:
        """Hand out a token of a payable bill with no payment attempt open.

        A bill whose earlier attempt failed or was cancelled can be handed out again, because the
        customer may then start a new attempt.
        """
        return self.reuse_token(
            lambda bill: is_payable(bill) and len(unpaid(bill)) == unpaid_instalments
            and not any(payment.status in ("created", "pending") for payment in self.payments(bill.id))
        )

    def claim_test_token(self) -> tuple[str, Ticket]:
        """Hand out a token of the test batch, for tests that expire or revoke its ticket."""
        token = self.free_test_tokens.pop(0)
        return token, self.ticket(token)

    def claim_test_token_pair(self) -> tuple[tuple[str, Ticket], tuple[str, Ticket]]:
        """Hand out two test-batch tokens of one bill, the ticket with the lower id first."""
        tickets = {token: self.ticket(token) for token in self.free_test_tokens}
        for first, first_ticket in tickets.items():
            for second, second_ticket in tickets.items():
                if first_ticket.bill_id == second_ticket.bill_id and first_ticket.id < second_ticket.id:
                    self.free_test_tokens.remove(first)
                    self.free_test_tokens.remove(second)
                    return (first, first_ticket), (second, second_ticket)
        raise AssertionError("no two unclaimed test links of one bill left")

    def ticket(self, token: str) -> Ticket:
        """The stored ticket of ``token``."""
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            ticket = session.scalar(select(Ticket).where(Ticket.token_hash == token_hash(self.rt.ticket_key, token)))
        assert ticket is not None, "the token matches no stored ticket"
        return ticket

    def ticket_by_id(self, ticket_id: int) -> Ticket:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return session.get_one(Ticket, ticket_id)

    def bill(self, bill_id: int) -> Bill:
        """The stored bill with its instalments loaded."""
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return session.scalars(
                select(Bill).where(Bill.id == bill_id).options(selectinload(Bill.instalments))
            ).one()

    def set_ticket(self, ticket_id: int, **values: datetime | None) -> None:
        """Change ticket columns directly in the tenant database (expiry, revocation)."""
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            session.execute(update(Ticket).where(Ticket.id == ticket_id).values(**values))
            session.commit()

    def event_kinds(self, ticket_id: int) -> list[str]:
        """Kinds of the ticket's events, oldest first."""
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return list(session.scalars(select(Event.kind).where(Event.ticket_id == ticket_id).order_by(Event.id)))

    def recorded_views(self, ticket_id: int, section_views: int) -> list[str]:
        """Wait until the ticket has ``section_views`` ``section_viewed`` events, then return its event kinds.

        Page views are written in the background after the page is sent; the test fails after 20
        seconds if they never arrive.
        """
        deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
        kinds = self.event_kinds(ticket_id)
        while kinds.count("section_viewed") < section_views and time.monotonic() < deadline:
            time.sleep(0.02)
            kinds = self.event_kinds(ticket_id)
        assert kinds.count("section_viewed") >= section_views, f"ticket {ticket_id}: views not recorded: {kinds}"
        return kinds

    def bill_event_kinds(self, bill_id: int) -> list[str]:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return list(session.scalars(select(Event.kind).where(Event.bill_id == bill_id).order_by(Event.id)))

    def payment_event_kinds(self, order_id: str) -> list[str]:
        """Kinds of the events recorded for one payment attempt, oldest first."""
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            events = session.scalars(select(Event).where(Event.kind.like("payment_%")).order_by(Event.id))
            return [event.kind for event in events if event.data.get("order_id") == order_id]

    def payments(self, bill_id: int) -> list[Payment]:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return list(session.scalars(select(Payment).where(Payment.bill_id == bill_id).order_by(Payment.id)))

    def payment(self, order_id: str) -> Payment:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return session.scalars(select(Payment).where(Payment.order_id == order_id)).one()

    def payment_count(self) -> int:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return session.scalar(select(func.count()).select_from(Payment)) or 0

    def open_bill(self, client: httpx.Client, token: str) -> httpx.Response:
        """Open the ticket link as a customer and return the summary page it leads to."""
        opened = client.get(f"/c/{DEMO_SLUG}/t/{token}")
        assert opened.status_code == 303, opened.text
        summary = client.get(opened.headers["location"])
        assert summary.status_code == 200, summary.text
        return summary

    def start_payment(self, client: httpx.Client, bill: Bill, summary_html: str) -> str:
        """Press "pay online" on the summary and return the order id of the sandbox page it leads to."""
        response = client.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                               data={"gateway": "sandbox", "_csrf_token": csrf_token(summary_html)})
        assert response.status_code == 303, response.text
        location = httpx.URL(response.headers["location"])
        assert location.path.startswith(f"/c/{DEMO_SLUG}/sandbox/"), location
        return location.path.rsplit("/", 1)[1]

    def notification(
        self, order_id: str, status: str, amount: Decimal, *, tenant: str = DEMO_SLUG, currency: str = "EUR",
        at: datetime | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A notification signed with ``tenant``'s sandbox key, as the provider would post it at ``at``."""
        gateway = gateway_for(self.rt, tenant, tenant_config(get_tenant(self.rt.db, tenant)), "sandbox")
        assert isinstance(gateway, SandboxGateway)
        return gateway.build_notification(order_id, status, amount, currency, at or clock.now())

    def post_notification(self, headers: dict[str, str], body: bytes, *, tenant: str = DEMO_SLUG) -> httpx.Response:
        """Post a notification to ``tenant``'s sandbox webhook."""
        return httpx.post(f"{self.base_url}/hooks/gateways/sandbox/{tenant}", headers=headers, content=body,
                          timeout=HTTP_TIMEOUT_SECONDS)

    def wait_for_payment(self, order_id: str, status: str) -> Payment:
        """Poll the payment until it reaches ``status``; fail the test after 20 seconds."""
        deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
        payment = self.payment(order_id)
        while payment.status != status and time.monotonic() < deadline:
            time.sleep(0.05)
            payment = self.payment(order_id)
        assert payment.status == status, f"payment {order_id} is {payment.status}, expected {status}"
        return payment


def is_payable(bill: Bill) -> bool:
    """True for a bill the customer can still pay online."""
    return bill.payable_online and not bill.direct_debit and bill.document_type != "TD04" and bill.paid_at is None


def unpaid(bill: Bill) -> list[Instalment]:
    """The bill's unpaid instalments, the next one due first."""
    items = [item for item in bill.instalments if item.paid_at is None]
    return sorted(items, key=lambda item: (item.due_date, item.position))


def csrf_token(html: str) -> str:
    """The CSRF token of the page's form."""
    match = CSRF_FIELD.search(html)
    assert match is not None, "the page has no form with a CSRF token"
    assert match.group(1), "the page's CSRF token is empty"
    return match.group(1)


def csrf_cookie(client: httpx.Client) -> str:
    """The CSRF cookie of this browser, the value every form of its pages carries."""
    value = client.cookies.get(CSRF_COOKIE)
    assert value, "the browser has no CSRF cookie; a GET sets it"
    return value


def without_csrf(html: str) -> str:
    """The page with the value of any CSRF field removed, for comparing pages."""
    return CSRF_FIELD.sub('<input type="hidden" name="_csrf_token" value="">', html)


def has_pay_button(html: str) -> bool:
    return PAY_FORM.search(html) is not None
