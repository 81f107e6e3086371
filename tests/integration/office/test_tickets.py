""""Ricerca ticket" over HTTP: filters, checkboxes, paging, sorting, detail, revoke, extend, full contact."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import AuditEntry, Message, Ticket
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, csrf_token, signed_in_client
from tests.integration.stats import dataset

TOTAL = re.compile(r"Totale risultati: (\d+) \| pagina (\d+) di (\d+)")


@pytest.fixture
def data(stack: EmbeddedStack, tenant: str) -> dataset.Dataset:
    with stack.rt.db.tenant_session(tenant) as session:
        return dataset.build(session)


def totals(text: str) -> tuple[int, int, int]:
    match = TOTAL.search(text)
    assert match is not None, "no 'Totale risultati' line"
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def search(client: object, **params: object) -> tuple[int, int, int]:
    response = client.get("/office/tickets", params=params)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text[:500]
    return totals(response.text)


def audit_actions(stack: EmbeddedStack, tenant: str) -> list[tuple[str, str]]:
    with stack.rt.db.tenant_session(tenant) as session:
        return [(entry.action, entry.target) for entry in session.scalars(
            select(AuditEntry).where(AuditEntry.action != "staff.sign_in").order_by(AuditEntry.id))]


def test_filters_and_checkboxes(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        assert search(client) == (16, 1, 1)  # every ticket but the test one, 2024's included
        assert search(client, channel="whatsapp") == (2, 1, 1)
        assert search(client, channel="sms", status="failed") == (1, 1, 1)
        assert search(client, s2s_errors="1") == (2, 1, 1)
        assert search(client, viewed="1") == (8, 1, 1)
        assert search(client, viewed="1", channel="sms") == (6, 1, 1)
        assert search(client, paid_online="1") == (4, 1, 1)  # B1 (T1), B3 (T7, T8), B17
        assert search(client, valid="1") == (11, 1, 1)  # 16 less 5 errors
        assert search(client, job_id=data.job2) == (3, 1, 1)
        assert search(client, date_from="2025-02-01") == (1, 1, 1)  # T13: 31/01 23:30 UTC
        assert search(client, date_from="2025-02-01", date_to="2025-02-28") == (3, 1, 1)
        assert search(client, date_from="2025-01-01", date_to="2025-01-31", channel="email") == (3, 1, 1)
        assert search(client, contact="3339999999") == (1, 1, 1)
        assert search(client, contact="+39 333 999 9999") == (1, 1, 1)
        assert search(client, document_number="B3") == (2, 1, 1)
        assert search(client, series="A", year=2025, issue_from="2025-01-05") == (16, 1, 1)
        assert search(client, issue_from="2025-01-06") == (0, 1, 1)
        assert search(client, size=5) == (16, 1, 4)
        assert search(client, size=5, page=4) == (16, 4, 4)


def test_unreadable_filter_is_named(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        response = client.get("/office/tickets", params={"date_from": "31-02-2025", "job_id": "abc"})

    assert response.status_code == 200
    assert "date_from, job_id" in response.text
    assert totals(response.text) == (0, 1, 1)


def test_sorting_and_masking(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        ascending = client.get("/office/tickets", params={"sort": "document", "dir": "asc", "size": 3})
        descending = client.get("/office/tickets", params={"sort": "amount", "dir": "desc", "channel": "sms"})

    numbers = re.findall(r"<td>(B\d+)/A", ascending.text)
    assert numbers == ["B1", "B10", "B11"]
    assert 'aria-sort="ascending"' in ascending.text
    assert "+39 333 ••• ••99" in html.unescape(descending.text)
    assert "+393339999999" not in descending.text


def test_detail_shows_history_and_masks(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                        data: dataset.Dataset) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.address == "+393339999999"))

    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/tickets/{ticket_id}")
        revealed = client.post(f"/office/tickets/{ticket_id}/contact", data={"_csrf_token": csrf_token(page.text)})

    assert page.status_code == 200
    assert "errore S2S" in page.text
    assert "+393339999999" not in page.text
    assert revealed.status_code == 200
    assert "+393339999999" in revealed.text
    assert audit_actions(stack, tenant) == [("contact.reveal", f"ticket:{ticket_id}")]


def test_revoke_and_extend_are_audited(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                       data: dataset.Dataset) -> None:
    ticket_id = data.ticket8
    with signed_in_client(stack, operator) as client:
        token = csrf_token(client.get(f"/office/tickets/{ticket_id}").text)
        extended = client.post(f"/office/tickets/{ticket_id}/extend", data={"_csrf_token": token, "days": "30"})
        too_long = client.post(f"/office/tickets/{ticket_id}/extend", data={"_csrf_token": token, "days": "999"})
        revoked = client.post(f"/office/tickets/{ticket_id}/revoke", data={"_csrf_token": token})
        again = client.post(f"/office/tickets/{ticket_id}/revoke", data={"_csrf_token": token})
        valid = search(client, valid="1")

    assert extended.headers["location"] == f"/office/tickets/{ticket_id}"
    assert too_long.status_code == 400
    assert "“999” non è un numero di giorni valido" in too_long.text
    assert revoked.headers["location"] == f"/office/tickets/{ticket_id}"
    assert again.headers["location"] == f"/office/tickets/{ticket_id}?error=revoke"
    with stack.rt.db.tenant_session(tenant) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.revoked_at is not None
        # The dataset's expiry is in 2030, so 30 days go on top of it.
        assert clock.as_utc(ticket.expires_at) == dataset.utc("2030-01-31 00:00")
    assert [action for action, _ in audit_actions(stack, tenant)] == ["ticket.extend", "ticket.revoke"]
    assert valid == (10, 1, 1)


ALERT = re.compile(r'<p class="notice warning" role="alert">([^<]*)</p>')


@pytest.mark.parametrize(("raw", "shown"), [
    ("0", "0"), ("366", "366"), ("-3", "-3"), ("abc", "abc"), ("", ""), ("1.5", "1.5"), (" ", ""),
    ("٣", "٣"), ("<b>7</b>", "&lt;b&gt;7&lt;/b&gt;"), ("9" * 30, "9" * 20 + "…"),
])
def test_extend_invalid_days_message(stack: EmbeddedStack, tenant: str, operator: StaffLogin, data: dataset.Dataset,
                                     raw: str, shown: str) -> None:
    with signed_in_client(stack, operator) as client:
        token = csrf_token(client.get(f"/office/tickets/{data.ticket8}").text)
        response = client.post(f"/office/tickets/{data.ticket8}/extend", data={"_csrf_token": token, "days": raw})

    assert response.status_code == 400
    alerts = ALERT.findall(response.text)
    assert alerts == [f"Impossibile estendere la validità: “{shown}” non è un numero di giorni valido. "
                      "Scegli un numero intero da 1 a 365."]
    assert audit_actions(stack, tenant) == []


def test_extend_invalid_days_english(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/tickets/{data.ticket8}")
        client.post("/office/language", data={"_csrf_token": csrf_token(page.text), "language": "en",
                                              "next": f"/office/tickets/{data.ticket8}"})
        response = client.post(f"/office/tickets/{data.ticket8}/extend",
                               data={"_csrf_token": csrf_token(page.text), "days": "400"})

    assert response.status_code == 400
    assert ALERT.findall(response.text) == [
        "The validity could not be extended: “400” is not a valid number of days. Choose a whole number from 1 to 365."]


def test_extend_revoked_ticket_message(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        token = csrf_token(client.get(f"/office/tickets/{data.ticket8}").text)
        client.post(f"/office/tickets/{data.ticket8}/revoke", data={"_csrf_token": token})
        refused = client.post(f"/office/tickets/{data.ticket8}/extend", data={"_csrf_token": token, "days": "7"})
        page = client.get(refused.headers["location"])

    assert refused.headers["location"] == f"/office/tickets/{data.ticket8}?error=extend"
    assert ALERT.findall(page.text) == ["Impossibile estendere la validità: un ticket revocato non può essere esteso."]


def test_extend_starts_from_now_for_an_expired_ticket(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                                      data: dataset.Dataset) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        ticket = session.get(Ticket, data.ticket8)
        assert ticket is not None
        ticket.expires_at = dataset.utc("2025-03-01 00:00")
        session.commit()
    before = clock.now()

    with signed_in_client(stack, operator) as client:
        token = csrf_token(client.get(f"/office/tickets/{data.ticket8}").text)
        client.post(f"/office/tickets/{data.ticket8}/extend", data={"_csrf_token": token, "days": "7"})

    with stack.rt.db.tenant_session(tenant) as session:
        expires = clock.as_utc(session.get(Ticket, data.ticket8).expires_at)  # type: ignore[union-attr]
    assert before + timedelta(days=7) <= expires <= clock.now() + timedelta(days=7)


def test_viewer_searches_but_cannot_act(stack: EmbeddedStack, tenant: str, viewer: StaffLogin,
                                        data: dataset.Dataset) -> None:
    with signed_in_client(stack, viewer) as client:
        page = client.get(f"/office/tickets/{data.ticket8}")
        token = csrf_token(page.text)
        responses = [client.post(f"/office/tickets/{data.ticket8}/{action}", data={"_csrf_token": token, "days": "7"})
                     for action in ("revoke", "extend", "contact")]
        listing = client.get("/office/tickets")

    assert page.status_code == 200
    assert "Revoca" not in page.text
    assert [response.status_code for response in responses] == [403, 403, 403]
    assert listing.status_code == 200
    assert audit_actions(stack, tenant) == []


def test_status_follows_the_latest_message(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                           data: dataset.Dataset) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        message = session.scalars(select(Message).where(Message.ticket_id == data.ticket8)).one()
        message.status = "failed"
        session.add(Message(ticket_id=data.ticket8, plugin="outbox", status="sent", idempotency_key="resent",
                            created_at=clock.now(), updated_at=clock.now()))
        session.commit()
        first_status = session.scalar(select(Ticket.latest_status).where(Ticket.id == data.ticket8))
        message.status = "rejected"  # a late report on the older message changes nothing
        session.commit()
        second_status = session.scalar(select(Ticket.latest_status).where(Ticket.id == data.ticket8))

    with signed_in_client(stack, operator) as client:
        sent = search(client, status="sent")

    assert (first_status, second_status) == ("sent", "sent")
    assert sent == (2, 1, 1)  # T5 and the re-sent T8


def test_resend_adds_a_message_and_is_audited(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                              data: dataset.Dataset) -> None:
    ticket_id = data.ticket8
    with stack.rt.db.tenant_session(tenant) as session:
        before = len(session.scalars(select(Message.id).where(Message.ticket_id == ticket_id)).all())

    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/tickets/{ticket_id}")
        sent = client.post(f"/office/tickets/{ticket_id}/resend", data={"_csrf_token": csrf_token(page.text)})
        client.post(f"/office/tickets/{ticket_id}/revoke", data={"_csrf_token": csrf_token(page.text)})
        refused = client.post(f"/office/tickets/{ticket_id}/resend", data={"_csrf_token": csrf_token(page.text)})

    assert "Invia di nuovo" in page.text
    assert sent.headers["location"] == f"/office/tickets/{ticket_id}"
    assert refused.headers["location"] == f"/office/tickets/{ticket_id}?error=resend"
    with stack.rt.db.tenant_session(tenant) as session:
        after = len(session.scalars(select(Message.id).where(Message.ticket_id == ticket_id)).all())
    assert after == before + 1
    assert ("ticket.resend", f"ticket:{ticket_id}") in audit_actions(stack, tenant)
