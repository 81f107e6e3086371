"""A customer paying through a gateway's fake: fresh bills, the pay button, the hosted page.

Tests drive the platform over HTTP exactly as a browser would and follow each redirect by hand, so
they see every hop: the pay button, the gateway's page (or our form page that posts to it), the
fake's outcome buttons, the return to our ``esito`` URL and the summary.
"""

from __future__ import annotations

import re
import ssl
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Event, Instalment, Payment, PaymentNotification, Ticket
from bolletta.platform.demo.run import DemoResult
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.tokens import new_token, token_hash
from bolletta.platform.tokens import random_base62
from tests.fakes.tls import TestCA

NEXI_ALIAS = "ALIAS_WEB_00012345"
NEXI_MAC_KEY = "nexi-test-mac-key-0123456789"
NEXI_API_KEY = "nexi-test-api-key-abcdef"
AXERVE_SHOP = "GESPAY12345"
AXERVE_API_KEY = "axerve-test-api-key"
SATISPAY_KEY_ID = "satispay-test-key-id"
PAYPAL_CLIENT_ID = "AcmeTestClientId"
PAYPAL_SECRET = "acme-test-client-secret"
PAYPAL_WEBHOOK_ID = "8PT597110X687430LKGECATA"
PAYPAL_MERCHANT_ID = "ACMEMERCHANT01"
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)" id="gateway-form"')
VERIFYING_MARK = 'class="status verifying"'
PAID_MARK = 'class="status paid"'
WAIT_SECONDS = 20.0


@dataclass
class Shop:
    """The running demo plus the test CA, with helpers to pay bills as a customer."""

    result: DemoResult
    ca: TestCA
    tokens: dict[int, str] = field(default_factory=dict)
    """Ticket token of each bill made by :meth:`new_bill`."""

    @property
    def rt(self) -> Runtime:
        return self.result.stack.rt

    @property
    def base_url(self) -> str:
        return self.result.stack.base_url

    def browser(self) -> httpx.Client:
        """A new browser that trusts the test CA (the fakes' pages) and follows no redirect."""
        verify = ssl.create_default_context(cafile=str(self.ca.ca_path))
        return httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30, verify=verify)

    def new_bill(self, amount: Decimal = Decimal("84.20")) -> tuple[str, Bill]:
        """Create a payable one-instalment bill with its own ticket; return the token and the bill."""
        now = clock.now()
        token = new_token()
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            template = session.scalars(select(Bill).where(Bill.payable_online.is_(True),
                                                          Bill.direct_debit.is_(False))).first()
            assert template is not None
            bill = Bill(
                public_id=random_base62(22), job_id=template.job_id, source_file="payments-test.xml",
                document_number=f"2026/T/{random_base62(8)}", series="T", year=2026, document_type="TD01",
                issue_date=template.issue_date, due_date=template.due_date, currency="EUR", total=amount,
                amount_due=amount, direct_debit=False, payable_online=True, service="electricity",
                customer_code="C-TEST", customer_name="Cliente Prova", created_at=now,
            )
            bill.instalments.append(Instalment(position=1, amount=amount, due_date=template.due_date))
            session.add(bill)
            session.flush()
            session.add(Ticket(token_hash=token_hash(self.rt.ticket_key, token), bill_id=bill.id,
                               job_id=template.job_id, channel="email", address=f"{random_base62(8)}@example.org",
                               created_at=now, expires_at=now + timedelta(days=15)))
            session.commit()
            self.tokens[bill.id] = token
            return token, self.bill(bill.id)

    def bill(self, bill_id: int) -> Bill:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return session.scalars(select(Bill).where(Bill.id == bill_id).options(selectinload(Bill.instalments))).one()

    def payments(self, bill_id: int) -> list[Payment]:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return list(session.scalars(select(Payment).where(Payment.bill_id == bill_id).order_by(Payment.id)))

    def payment(self, order_id: str) -> Payment:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return session.scalars(select(Payment).where(Payment.order_id == order_id)).one()

    def notifications(self, order_id: str) -> list[PaymentNotification]:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return list(session.scalars(select(PaymentNotification).where(PaymentNotification.order_id == order_id)
                                        .order_by(PaymentNotification.id)))

    def rejected_count(self, gateway: str) -> int:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            return session.scalar(select(func.count()).select_from(PaymentNotification).where(
                PaymentNotification.gateway == gateway, PaymentNotification.outcome == "rejected")) or 0

    def event_kinds(self, order_id: str) -> list[str]:
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            events = session.scalars(select(Event).where(Event.kind.like("payment_%")).order_by(Event.id))
            return [event.kind for event in events if event.data.get("order_id") == order_id]

    # -- the customer's steps ------------------------------------------------------------------

    def open_summary(self, browser: httpx.Client, token: str) -> httpx.Response:
        opened = browser.get(f"/c/{DEMO_SLUG}/t/{token}")
        assert opened.status_code == 303, opened.text
        summary = browser.get(opened.headers["location"])
        assert summary.status_code == 200
        return summary

    def press_pay(self, browser: httpx.Client, bill: Bill, gateway: str, summary_html: str) -> httpx.Response:
        csrf = CSRF_FIELD.search(summary_html)
        assert csrf is not None, "the summary has no payment form"
        return browser.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                            data={"gateway": gateway, "_csrf_token": csrf.group(1)})

    def reach_gateway_page(self, browser: httpx.Client, pay_response: httpx.Response) -> str:
        """Follow the pay button to the gateway's hosted page and return that page's URL."""
        assert pay_response.status_code == 303, pay_response.text
        location = pay_response.headers["location"]
        if location.endswith("/invio"):
            form_page = browser.get(location)
            assert form_page.status_code == 200
            action = FORM_ACTION.search(form_page.text)
            assert action is not None, "the form page has no gateway form"
            fields = dict(HIDDEN_FIELD.findall(form_page.text))
            posted = browser.post(action.group(1).replace("&amp;", "&"), data=fields)
            assert posted.status_code == 303, posted.text
            location = posted.headers["location"]
        page = browser.get(location)
        assert page.status_code == 200, page.text
        return location

    def choose(self, browser: httpx.Client, hosted_url: str, outcome: str) -> httpx.Response:
        """Press an outcome button on the fake's page and follow the provider's redirect back to us."""
        back = browser.post(hosted_url, data={"outcome": outcome})
        assert back.status_code == 303, back.text
        returned = browser.get(back.headers["location"])
        assert returned.status_code == 303, returned.text
        return browser.get(returned.headers["location"])

    def pay(self, gateway: str, outcome: str = "pay") -> tuple[Bill, str, httpx.Response]:
        """Pay a fresh bill through ``gateway``; return the bill, the order id and the summary shown after."""
        token, bill = self.new_bill()
        with self.browser() as browser:
            summary = self.open_summary(browser, token)
            hosted = self.reach_gateway_page(browser, self.press_pay(browser, bill, gateway, summary.text))
            after = self.choose(browser, hosted, outcome)
        (payment,) = self.payments(bill.id)
        return bill, payment.order_id, after

    def age(self, order_id: str, minutes: int) -> None:
        """Move the attempt's creation time ``minutes`` into the past."""
        with self.rt.db.tenant_session(DEMO_SLUG) as session:
            session.execute(update(Payment).where(Payment.order_id == order_id)
                            .values(created_at=clock.now() - timedelta(minutes=minutes)))
            session.commit()

    def summary(self, bill: Bill) -> str:
        """Open the bill's link in a new browser and return its summary page."""
        with self.browser() as browser:
            return self.open_summary(browser, self.tokens[bill.id]).text

    def wait_for(self, order_id: str, status: str) -> Payment:
        deadline = time.monotonic() + WAIT_SECONDS
        payment = self.payment(order_id)
        while payment.status != status and time.monotonic() < deadline:
            time.sleep(0.05)
            payment = self.payment(order_id)
        assert payment.status == status, f"payment {order_id} is {payment.status}, expected {status}"
        return payment

