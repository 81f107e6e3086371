"""'Richiedi un nuovo link': a new link only for a contact on file, the same answer for anyone."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Message
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.portal.new_link import renew_link
from tests.integration.portal.helpers import WAIT_TIMEOUT_SECONDS, Portal, csrf_token, is_payable, without_csrf


def ask_new_link(portal: Portal, contact: str):
    with portal.client() as client:
        page = client.get(f"/c/{DEMO_SLUG}/t/not-a-valid-token")
        return client.post(f"/c/{DEMO_SLUG}/nuovo-link",
                           data={"contact": contact, "_csrf_token": csrf_token(page.text)})


def renew_messages(portal: Portal, ticket_id: int) -> list[Message]:
    with portal.rt.db.tenant_session(DEMO_SLUG) as session:
        return list(session.scalars(select(Message).where(
            Message.ticket_id == ticket_id, Message.idempotency_key.like("renew-%"))))


def wait_for_sent_renewal(portal: Portal, ticket_id: int) -> Message:
    deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        sent = [message for message in renew_messages(portal, ticket_id) if message.status in ("sent", "delivered")]
        if sent:
            return sent[0]
        time.sleep(0.1)
    statuses = [message.status for message in renew_messages(portal, ticket_id)]
    raise AssertionError(f"no new link was sent for ticket {ticket_id} (renewal messages: {statuses})")


def age_messages(portal: Portal, ticket_id: int, age: timedelta) -> None:
    """Date the ticket's messages ``age`` ago, as if the link had been sent then."""
    with portal.rt.db.tenant_session(DEMO_SLUG) as session:
        session.execute(update(Message).where(Message.ticket_id == ticket_id).values(created_at=clock.now() - age))
        session.commit()


def test_renewal_waits_an_hour_after_the_last_send(portal: Portal) -> None:
    token, _bill = portal.reuse_token(lambda bill: True)
    ticket = portal.ticket(token)

    assert renew_link(portal.rt, DEMO_SLUG, ticket.id) == "too_soon"
    assert renew_link(portal.rt, DEMO_SLUG, 0) == "unknown"


def test_invalid_page_offers_a_new_link(portal: Portal) -> None:
    with portal.client() as client:
        page = client.get(f"/c/{DEMO_SLUG}/t/not-a-valid-token")

    assert page.status_code == 404
    assert 'action="/c/acme/nuovo-link"' in page.text
    assert "Richiedi un nuovo link" in page.text


def test_expired_ticket_gets_a_new_link_on_file(portal: Portal) -> None:
    # A bill nobody pays online: the payable ones stay for the payment tests.
    token, _bill = portal.claim_token(lambda bill: not is_payable(bill))
    ticket = portal.ticket(token)
    portal.set_ticket(ticket.id, expires_at=clock.now() - timedelta(days=1))
    age_messages(portal, ticket.id, timedelta(days=16))

    portal.tokens.remove(token)  # the renewal below replaces this token, so no other test may use it
    response = ask_new_link(portal, ticket.address)

    assert response.status_code == 200, response.text
    wait_for_sent_renewal(portal, ticket.id)
    renewed = portal.ticket_by_id(ticket.id)
    assert clock.as_utc(renewed.expires_at) > clock.now() + timedelta(days=10)
    assert renewed.token_hash != ticket.token_hash  # the old link stays dead
    with portal.client() as client:
        assert client.get(f"/c/{DEMO_SLUG}/t/{token}").status_code == 404


def test_answer_is_identical_for_unknown_contacts(portal: Portal) -> None:
    token, _bill = portal.reuse_token(lambda bill: True)
    known = ask_new_link(portal, portal.ticket(token).address)
    unknown = ask_new_link(portal, "nessuno.qui@example.org")
    unknown_phone = ask_new_link(portal, "+39 333 000 0000")

    assert known.status_code == unknown.status_code == unknown_phone.status_code == 200
    assert without_csrf(known.text) == without_csrf(unknown.text) == without_csrf(unknown_phone.text)


def test_revoked_ticket_gets_no_new_link(portal: Portal) -> None:
    customer_token, _customer_bill = portal.claim_token(lambda bill: True)
    ticket = portal.ticket(customer_token)
    portal.set_ticket(ticket.id, revoked_at=clock.now())

    outcome = renew_link(portal.rt, DEMO_SLUG, ticket.id)

    assert outcome == "revoked"
    assert renew_messages(portal, ticket.id) == []


def test_malformed_contact_is_asked_again(portal: Portal) -> None:
    response = ask_new_link(portal, "not a contact")

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text
