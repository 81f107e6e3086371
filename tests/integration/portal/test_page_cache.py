"""Bill pages served from the in-process caches still follow revocation, expiry and payments at once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Event
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.tickets import actions
from tests.integration.portal.helpers import WAIT_TIMEOUT_SECONDS, Portal, is_payable

ADMIN = Staff(user_id=None, username="platform.admin", role="platform_admin", tenant=None, ip="127.0.0.1")


def summary_path(bill: Bill) -> str:
    return f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario"


def test_staff_revocation_ends_cached_page(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda _bill: True)
    ticket = portal.ticket(token)

    with portal.client() as client:
        portal.open_bill(client, token)
        cached = client.get(summary_path(bill))
        actions.revoke(portal.rt, DEMO_SLUG, ticket.id, ADMIN)
        try:
            after = client.get(summary_path(bill))
        finally:
            portal.set_ticket(ticket.id, revoked_at=None)  # other tests may reuse the link

    assert cached.status_code == 200
    assert after.status_code == 404
    assert bill.document_number not in after.text


def test_expiry_ends_cached_page(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda _bill: True)
    ticket = portal.ticket(token)
    after_expiry = clock.as_utc(ticket.expires_at) + timedelta(seconds=1)

    with portal.client() as client:
        portal.open_bill(client, token)
        cached = client.get(summary_path(bill))
        with clock.use_clock(lambda: after_expiry):
            after = client.get(summary_path(bill))

    assert cached.status_code == 200
    assert after.status_code == 404
    assert bill.document_number not in after.text


def test_payment_shows_on_cached_page(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda bill: is_payable(bill) and not portal.payments(bill.id))

    with portal.client() as client:
        before = portal.open_bill(client, token)
        with portal.rt.db.tenant_session(DEMO_SLUG) as session:
            stored = session.get_one(Bill, bill.id)
            stored.paid_at = clock.now()
            session.commit()
        try:
            after = client.get(summary_path(bill))
        finally:
            with portal.rt.db.tenant_session(DEMO_SLUG) as session:
                session.get_one(Bill, bill.id).paid_at = None
                session.commit()
        unpaid_again = client.get(summary_path(bill))

    assert '/paga"' in before.text
    assert '/paga"' not in after.text
    assert '/paga"' in unpaid_again.text


def test_concurrent_views_recorded_once_each(portal: Portal) -> None:
    token, bill = portal.claim_token()
    ticket = portal.ticket(token)
    requests = 24

    with portal.client() as client:
        portal.open_bill(client, token)
        cookies = dict(client.cookies)

        def view(_index: int) -> int:
            with portal.client() as browser:
                browser.cookies.update(cookies)
                return browser.get(summary_path(bill)).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(view, range(requests)))

    assert statuses == [200] * requests
    expected = requests + 1  # the first page of open_bill, then the concurrent ones
    deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
    while section_views(portal, ticket.id) < expected and time.monotonic() < deadline:
        time.sleep(0.05)  # a write may still be running after the last response
    assert section_views(portal, ticket.id) == expected
    assert portal.event_kinds(ticket.id).count("viewed") == 1
    assert portal.ticket(token).first_viewed_at is not None


def section_views(portal: Portal, ticket_id: int) -> int:
    with portal.rt.db.tenant_session(DEMO_SLUG) as session:
        return session.scalar(select(func.count()).select_from(Event)
                              .where(Event.ticket_id == ticket_id, Event.kind == "section_viewed")) or 0


def test_unchanged_session_sends_no_cookie(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda _bill: True)

    with portal.client() as client:
        first = portal.open_bill(client, token)
        again = client.get(summary_path(bill))
        english = client.get(summary_path(bill) + "?lang=en")

    session_cookies = [value for value in again.headers.get_list("set-cookie") if value.startswith("bolletta=")]
    assert first.status_code == again.status_code == 200
    assert session_cookies == [], "an unchanged session was encrypted and sent again"
    assert any(value.startswith("bolletta=") for value in english.headers.get_list("set-cookie"))
