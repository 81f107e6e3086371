"""'Richiedi un nuovo link': a new link only for a contact on file, the same answer for anyone."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Message, OutboxTask, Ticket
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.portal import new_link
from bolletta.platform.portal.new_link import renew_link
from bolletta.platform.tickets.tokens import token_hash
from tests.integration.portal.helpers import WAIT_TIMEOUT_SECONDS, Portal, csrf_token, is_payable, without_csrf
from tests.integration.stack_support import LINK_PATTERN, mails_to


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


def contact_ticket_ids(portal: Portal, ticket: Ticket) -> list[int]:
    """Ids of the customer tickets on the same channel and address as ``ticket`` (a customer may have several bills)."""
    with portal.rt.db.tenant_session(DEMO_SLUG) as session:
        return list(session.scalars(select(Ticket.id).where(
            Ticket.channel == ticket.channel, Ticket.address == ticket.address, Ticket.is_test.is_(False))))


def wait_for_contact_renewal(portal: Portal, ticket: Ticket) -> int:
    """Wait until one ticket of ``ticket``'s contact got a new link; return that ticket's id."""
    deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
    ids = contact_ticket_ids(portal, ticket)
    while time.monotonic() < deadline:
        for ticket_id in ids:
            if any(message.status in ("sent", "delivered") for message in renew_messages(portal, ticket_id)):
                return ticket_id
        time.sleep(0.1)
    raise AssertionError(f"no new link was sent to the contact of ticket {ticket.id} (its tickets: {ids})")


def age_messages(portal: Portal, ticket_id: int, age: timedelta) -> None:
    """Date the ticket's messages ``age`` ago, as if the link had been sent then."""
    with portal.rt.db.tenant_session(DEMO_SLUG) as session:
        session.execute(update(Message).where(Message.ticket_id == ticket_id).values(created_at=clock.now() - age))
        session.commit()


@pytest.fixture(scope="module")
def renewed_contact(portal: Portal) -> tuple[Ticket, int]:
    """An e-mail contact that asked for a new link right after the demo sent its bill.

    Returns one ticket of the contact and the id of the ticket whose link was renewed. A second
    request within the hour sends nothing, so other tests may ask for this contact again.
    """
    ticket = email_contact(portal)
    response = ask_new_link(portal, ticket.address)
    assert response.status_code == 200, response.text
    renewed_id = wait_for_contact_renewal(portal, ticket)
    swap_renewed_token(portal, renewed_id, ticket.address)
    return ticket, renewed_id


def test_fresh_link_is_renewed_once_an_hour(portal: Portal, renewed_contact: tuple[Ticket, int]) -> None:
    # The demo sent this link seconds ago: the customer still gets a new one, but only one per hour.
    ticket, renewed_id = renewed_contact

    again = ask_new_link(portal, ticket.address)

    assert again.status_code == 200, again.text
    assert renew_link(portal.rt, DEMO_SLUG, renewed_id) == "too_soon"
    assert len(renew_messages(portal, renewed_id)) == 1
    assert renew_link(portal.rt, DEMO_SLUG, 0) == "unknown"


def email_contact(portal: Portal) -> Ticket:
    """Return the ticket of the first customer link that went out by e-mail."""
    for token in portal.tokens:
        ticket = portal.ticket(token)
        if ticket.channel == "email":
            return ticket
    raise AssertionError("the demo sent no customer link by e-mail")


def ticket_of(portal: Portal, token: str) -> Ticket | None:
    with portal.rt.db.tenant_session(DEMO_SLUG) as session:
        return session.scalar(select(Ticket).where(Ticket.token_hash == token_hash(portal.rt.ticket_key, token)))


def swap_renewed_token(portal: Portal, ticket_id: int, address: str) -> None:
    """Put the token of ``ticket_id``'s renewal e-mail where its replaced token was in ``portal``.

    Other tests keep using the ticket, so its bill stays available to them with the new link.
    """
    old = [token for token in portal.tokens if ticket_of(portal, token) is None]
    new = []
    for mail in mails_to(portal.result.stack, address):
        body = mail.message.get_body(preferencelist=("plain",))
        for match in LINK_PATTERN.finditer(body.get_content() if body is not None else ""):
            ticket = ticket_of(portal, match.group(2))
            if ticket is not None and ticket.id == ticket_id:
                new.append(match.group(2))
    assert len(old) == 1, f"expected one replaced token, found {len(old)}"
    assert new, f"the renewal e-mail of ticket {ticket_id} carries no new link"
    for tokens in (portal.tokens, portal.free_tokens):
        if old[0] in tokens:
            tokens[tokens.index(old[0])] = new[-1]


def test_email_on_file_matches_any_case(portal: Portal) -> None:
    with portal.rt.db.tenant_session(DEMO_SLUG) as session:
        # Ingestion keeps the case of the local part as the contacts file wrote it. Nothing is
        # committed, so the ticket keeps its address and no link is sent.
        session.execute(update(Ticket).where(Ticket.channel == "email").values(address=func.upper(Ticket.address)))
        email = session.scalar(select(Ticket).where(Ticket.channel == "email", Ticket.is_test.is_(False)))
        assert email is not None
        typed = new_link.normalize_contact(email.address.title())
        assert typed is not None

        new_link.queue_request(session, DEMO_SLUG, *typed)
        session.flush()
        queued = [row.args for row in session.scalars(select(OutboxTask).where(
            OutboxTask.actor == "renew_link", OutboxTask.sent_at.is_(None)))]
        address = email.address
        session.rollback()

    assert [args[1] for args in queued] != [0], f"{address!r} on file was not found as {typed[1]!r}"
    assert len(queued) == 1


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


def test_answer_is_identical_for_unknown_contacts(portal: Portal, renewed_contact: tuple[Ticket, int]) -> None:
    # A contact whose link was just renewed: the request sends nothing, so no other test's link changes.
    known = ask_new_link(portal, renewed_contact[0].address)
    unknown = ask_new_link(portal, "nessuno.qui@example.org")
    unknown_phone = ask_new_link(portal, "+39 333 000 0000")

    assert known.status_code == unknown.status_code == unknown_phone.status_code == 200
    assert without_csrf(known.text) == without_csrf(unknown.text) == without_csrf(unknown_phone.text)


def test_revoked_ticket_gets_no_new_link(portal: Portal) -> None:
    # A ticket no other test renewed, so any renewal message below comes from this request.
    customer_token = next(token for token in portal.free_tokens
                          if not renew_messages(portal, portal.ticket(token).id))
    portal.free_tokens.remove(customer_token)
    portal.tokens.remove(customer_token)  # a revoked link serves no other test
    ticket = portal.ticket(customer_token)
    portal.set_ticket(ticket.id, revoked_at=clock.now())

    outcome = renew_link(portal.rt, DEMO_SLUG, ticket.id)

    assert outcome == "revoked"
    assert renew_messages(portal, ticket.id) == []


def test_malformed_contact_is_asked_again(portal: Portal) -> None:
    response = ask_new_link(portal, "not a contact")

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text
