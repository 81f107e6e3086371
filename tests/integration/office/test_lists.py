"""The other searches of the top menu, the bill detail, the test mail, and the role × route matrix."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import AuditEntry, Bill, StoredMessage
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    StaffLogin,
    create_staff,
    csrf_token,
    signed_in_client,
    web_client,
)
from tests.integration.stats import dataset

TOTAL = re.compile(r"Totale risultati: (\d+) \| pagina (\d+) di (\d+)")


@pytest.fixture
def data(stack: EmbeddedStack, tenant: str) -> dataset.Dataset:
    with stack.rt.db.tenant_session(tenant) as session:
        return dataset.build(session)


@pytest.fixture
def admin(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.admin", "tenant_admin", tenant)


def total(client: object, path: str, **params: object) -> int:
    response = client.get(path, params=params)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text[:300]
    match = TOTAL.search(response.text)
    assert match is not None
    return int(match.group(1))


def test_bill_search_filters(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        assert total(client, "/office/bills") == 14
        assert total(client, "/office/bills", document_number="B3") == 1
        assert total(client, "/office/bills", customer="cliente b1") == 8  # B1, B10, B11, B13..B17
        assert total(client, "/office/bills", paid="yes") == 3  # B1, B3, B17
        assert total(client, "/office/bills", paid="no") == 11
        assert total(client, "/office/bills", amount_min="80,00", amount_max="80") == 14
        assert total(client, "/office/bills", amount_min="80,01") == 0
        assert total(client, "/office/bills", job_id=data.job2, service="electricity") == 3
        assert total(client, "/office/bills", due_from="2025-02-06") == 0


def test_bill_detail_lists_every_ticket(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                        data: dataset.Dataset) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        bill_id = session.scalar(select(Bill.id).where(Bill.document_number == "B1"))
    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/bills/{bill_id}")

    assert page.status_code == 200
    assert page.text.count('href="/office/tickets/') == 2
    assert "ticket di prova" in page.text
    assert "completato" in page.text


def test_job_search(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        assert total(client, "/office/jobs") == 2
        assert total(client, "/office/jobs", date_from="2025-01-31", date_to="2025-01-31") == 1
        assert total(client, "/office/jobs", state="dispatched", filename="GENNAIO") == 1
        assert total(client, "/office/jobs", state="parsed") == 0


def test_payment_status_with_totals(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        page = client.get("/office/payments")
        completed = total(client, "/office/payments", status="completed")
        in_march = total(client, "/office/payments", date_from="2025-03-01", date_to="2025-03-31")

    totals = html.unescape(page.text)
    assert "Totale risultati: 6" in totals
    assert re.search(r"completato</td><td class=\"number\">3</td><td class=\"number\">240,00\s€", totals)
    assert completed == 3
    assert in_march == 2


def test_bills_by_email(stack: EmbeddedStack, tenant: str, operator: StaffLogin, data: dataset.Dataset) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        bill = session.scalars(select(Bill).where(Bill.document_number == "B3")).one()
        bill.details = {"services": {"bill_by_email": True}}
        session.commit()

    with signed_in_client(stack, operator) as client:
        assert total(client, "/office/mailings") == 1  # B3's e-mail ticket, not its SMS ticket
        assert total(client, "/office/mailings", status="failed") == 0


def test_test_mail_renders_html_in_a_sandbox(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        session.add(StoredMessage(plugin="outbox", kind="email", to_address="m@example.it", subject="Bolletta",
                                  text="Testo semplice", html='<p>Ciao</p><script>alert("x")</script>',
                                  idempotency_key="k1", created_at=datetime(2025, 1, 1, tzinfo=UTC)))
        session.commit()
        row_id = session.scalars(select(StoredMessage.id)).one()
    mail_dir = stack.rt.settings.data_path / "mail"
    mail_dir.mkdir(parents=True, exist_ok=True)
    for number, sender in ((9001, f"bollette@{tenant}.example"), (9002, "bollette@other.example")):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, "c@example.it", f"Oggetto {number}"
        message.set_content("testo")
        (mail_dir / f"{number}.eml").write_bytes(message.as_bytes())

    with signed_in_client(stack, operator) as client:
        listing = client.get("/office/mailbox")
        detail = client.get(f"/office/mailbox/outbox/{row_id}")
        caught = client.get("/office/mailbox/catcher/9001")
        foreign = client.get("/office/mailbox/catcher/9002")

    assert "Oggetto 9001" in listing.text
    assert "m•••@example.it" in listing.text
    assert "m@example.it" not in listing.text
    assert "Oggetto 9002" not in listing.text
    assert detail.status_code == 200
    assert '<iframe class="mail-body" sandbox=""' in detail.text
    assert "<script>" not in detail.text
    assert "&lt;script&gt;" in detail.text
    assert "Testo semplice" in detail.text
    assert caught.status_code == 200
    assert foreign.status_code == 404
    with stack.rt.db.tenant_session(tenant) as session:
        viewed = list(session.scalars(select(AuditEntry.target).where(AuditEntry.action == "mailbox.message_viewed")))
    assert f"outbox:{row_id}" in viewed
    assert "catcher:9001" in viewed


def test_english_is_available(stack: EmbeddedStack, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        italian = client.get("/office/tickets")
        switched = client.post("/office/language", data={"_csrf_token": csrf_token(italian.text), "language": "en",
                                                         "next": "/office/tickets?channel=sms"})
        english = client.get("/office/tickets")
        outside = client.post("/office/language", data={"_csrf_token": csrf_token(italian.text), "language": "it",
                                                        "next": "https://example.org/"})

    assert "Ricerca ticket" in italian.text
    assert switched.headers["location"] == "/office/tickets?channel=sms"
    assert '<html lang="en">' in english.text
    assert "Total results: 0 | page 1 of 1" in english.text
    assert "Ricerca ticket" not in english.text
    assert outside.headers["location"] == "/office/"


ROUTES = [
    ("get", "/office/", 200, 200, 200),
    ("get", "/office/tickets", 200, 200, 200),
    ("get", "/office/bills", 200, 200, 200),
    ("get", "/office/jobs", 200, 200, 200),
    ("get", "/office/payments", 200, 200, 200),
    ("get", "/office/mailings", 200, 200, 200),
    ("get", "/office/stats", 200, 200, 200),
    ("get", "/office/mailbox", 200, 200, 403),
    ("get", "/office/exports", 200, 200, 403),
    ("post", "/office/exports/tickets/csv", 200, 200, 403),
    ("post", "/office/exports/bills/xlsx", 200, 200, 403),
    ("post", "/office/exports/jobs/csv", 200, 200, 403),
    ("post", "/office/exports/payments/csv", 200, 200, 403),
    ("post", "/office/exports/mailings/csv", 200, 200, 403),
    ("post", "/office/stats/refresh", 303, 303, 303),
    ("get", "/office/audit", 200, 403, 403),
    ("get", "/office/settings", 200, 403, 403),
    ("get", "/office/settings/messages", 200, 403, 403),
    ("get", "/office/api-tokens", 200, 403, 403),
    ("post", "/office/webhooks/endpoints", 303, 403, 403),
    ("post", "/office/webhooks/endpoints/999999/remove", 404, 403, 403),
    ("post", "/office/api-tokens", 400, 403, 403),
    ("post", "/office/api-tokens/999999/revoke", 404, 403, 403),
    ("post", "/office/settings/messages", 303, 403, 403),
    ("post", "/office/settings/messages/versions/999999", 303, 403, 403),
    ("get", "/office/settings/company", 200, 403, 403),
    ("post", "/office/settings/security", 303, 403, 403),
    ("post", "/office/settings/security/versions/999999", 404, 403, 403),
    ("get", "/office/webhooks", 200, 403, 403),
    ("post", "/office/webhooks/deliveries/999/replay", 303, 403, 403),
    ("get", "/office/customer-data", 200, 403, 403),
    ("post", "/office/customer-data/export", 400, 403, 403),
    ("post", "/office/customer-data/erase", 400, 403, 403),
    ("get", "/office/tickets/{ticket}", 200, 200, 200),
    ("post", "/office/tickets/{ticket}/contact", 200, 200, 403),
    ("get", "/office/bills/{bill}", 200, 200, 200),
    ("get", "/office/jobs/{job}/archive", 404, 404, 403),
    ("get", "/office/exports/999/download", 404, 404, 403),
    ("get", "/office/mailbox/outbox/999", 404, 404, 403),
]


@pytest.mark.parametrize(("method", "path", "as_admin", "as_operator", "as_viewer"), ROUTES)
def test_role_matrix(stack: EmbeddedStack, tenant: str, admin: StaffLogin, operator: StaffLogin, viewer: StaffLogin,
                     data: dataset.Dataset, method: str, path: str, as_admin: int, as_operator: int,
                     as_viewer: int) -> None:
    # The dataset's job has no archive in storage, so its download is 404 for the roles allowed to ask.
    path = path.format(ticket=data.ticket8, bill=data.bill13, job=data.job1)
    for login, expected in ((admin, as_admin), (operator, as_operator), (viewer, as_viewer)):
        with signed_in_client(stack, login) as client:
            token = csrf_token(client.get("/office/").text)
            response = (client.get(path) if method == "get"
                        else client.post(path, data={"_csrf_token": token}))
        assert response.status_code == expected, (login.staff.role, path, response.status_code)
    with web_client(stack) as anonymous:
        response = anonymous.get(path) if method == "get" else anonymous.post(path)
    assert response.status_code in (303, 403), path


def test_every_export_is_audited(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                 data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        token = csrf_token(client.get("/office/").text)
        for kind in ("tickets", "bills", "jobs", "payments", "mailings"):
            assert client.post(f"/office/exports/{kind}/csv", data={"_csrf_token": token}).status_code == 200

    with stack.rt.db.tenant_session(tenant) as session:
        targets = list(session.scalars(select(AuditEntry.target).where(AuditEntry.action == "export.download")
                                       .order_by(AuditEntry.id)))
    assert targets == ["list:tickets", "list:bills", "list:jobs", "list:payments", "list:mailings"]


def test_english_reaches_every_staff_page(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        token = csrf_token(client.get("/office/").text)
        client.post("/office/language", data={"_csrf_token": token, "language": "en", "next": "/office/"})
        pages = {path: client.get(path) for path in (f"/office/jobs/{data.job1}", "/office/upload", "/office/contacts",
                                                     "/office/stats", "/office/bills")}

    for path, page in pages.items():
        assert page.status_code == 200, path
        assert '<html lang="en">' in page.text, path
    # The job arrived at 08:00 UTC on 9 January 2025: staff in Italy read it day first, 24-hour clock.
    assert "09/01/2025 09:00" in pages[f"/office/jobs/{data.job1}"].text
