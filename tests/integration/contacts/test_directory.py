"""The contacts directory: a contacts CSV through SFTP, the backoffice and the API, and its report."""

from __future__ import annotations

import paramiko
import pytest
from sqlalchemy import func, select

from bolletta.platform.api.tokens import create_token
from bolletta.platform.contacts import directory
from bolletta.platform.db.models.tenant import AuditEntry, Contact, Job
from bolletta.platform.demo.flow import build_demo_flow
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.accounts import create_sftp_account
from tests.integration.stack_support import (
    StaffLogin,
    csrf_token,
    mails_to,
    signed_in_client,
    wait_idle,
    web_client,
)

SFTP_PASSWORD = "password-sftp-rubrica"

CONTACTS_CSV = (
    "\ufeffCodice Cliente;Cellulare;E-mail;Lingua\r\n"
    "C-001;333 123 4567;Mario.Rossi@Example.IT;it\r\n"
    "C-002;06 1234 5678;;\r\n"
    "C-003;;;\r\n"
    ";347 111 2222;;\r\n"
    "C-001;347-7654321;;en\r\n"
    "\r\n"
).encode()
"""Five data rows: C-001 twice (three contacts), a landline, a row without contacts, a row without a code."""

NO_CODE_COLUMN_CSV = b"nome;cellulare\r\nMario;3331234567\r\n"


def _directory(stack: EmbeddedStack, tenant: str) -> set[tuple[str, str, str]]:
    with stack.rt.db.tenant_session(tenant) as session:
        rows = session.execute(
            select(Contact.customer_code, Contact.channel, Contact.address).where(Contact.source == "directory")
        )
        return {tuple(row) for row in rows}  # type: ignore[misc]


def _audit(stack: EmbeddedStack, tenant: str) -> list[AuditEntry]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "contacts.import")))


def _jobs(stack: EmbeddedStack, tenant: str) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return session.scalar(select(func.count(Job.id))) or 0


def _sftp_upload(stack: EmbeddedStack, tenant: str, path: str, data: bytes) -> list[str]:
    """Upload ``data`` to ``path`` (creating ``contatti/`` if missing); return the folder's listing after."""
    transport = paramiko.Transport(("127.0.0.1", stack.sftp.port))
    try:
        transport.connect(username=f"{tenant}-sftp", password=SFTP_PASSWORD)
        client = paramiko.SFTPClient.from_transport(transport)
        assert client is not None
        if "contatti" not in client.listdir("."):
            client.mkdir("contatti")
        with client.open(path, "wb") as handle:
            handle.write(data)
        listing = client.listdir("contatti")
        client.close()
    finally:
        transport.close()
    return listing


EXPECTED = {
    ("C-001", "sms", "+393331234567"),
    ("C-001", "sms", "+393477654321"),
    ("C-001", "email", "Mario.Rossi@example.it"),
}


def test_sftp_contatti_updates_directory(stack: EmbeddedStack, tenant: str) -> None:
    create_sftp_account(stack.rt.db, tenant, f"{tenant}-sftp", SFTP_PASSWORD)

    listing = _sftp_upload(stack, tenant, "contatti/recapiti.csv", CONTACTS_CSV)
    wait_idle(stack)

    assert _jobs(stack, tenant) == 0
    assert _directory(stack, tenant) == EXPECTED
    assert listing == []  # the imported file leaves the area
    [entry] = _audit(stack, tenant)
    assert entry.actor == f"sftp:{tenant}"
    assert entry.detail["contacts_stored"] == 3
    [mail] = [m for m in mails_to(stack, f"staff@{tenant}.example") if "recapiti.csv" in str(m.message["Subject"])]
    assert str(mail.message["Subject"]).endswith("recapiti.csv: recapiti importati")
    body = mail.message.get_content()
    assert "Righe lette: 5" in body
    assert "Recapiti salvati: 3 (clienti: 1)" in body
    assert "Valori scartati: 3" in body
    assert "recapiti.csv, riga 3:" in body
    assert "recapiti.csv, riga 4: la riga ha un codice cliente ma nessun cellulare" in body
    assert "recapiti.csv, riga 5:" in body
    assert "'061 ••• ••78'" in body
    assert "1234 5678" not in body


def test_archive_in_contatti_opens_no_job(stack: EmbeddedStack, tenant: str) -> None:
    create_sftp_account(stack.rt.db, tenant, f"{tenant}-sftp", SFTP_PASSWORD)

    _sftp_upload(stack, tenant, "contatti/flusso.zip", build_demo_flow().archive)
    wait_idle(stack)

    assert _jobs(stack, tenant) == 0
    assert _directory(stack, tenant) == set()
    subjects = [str(m.message["Subject"]) for m in mails_to(stack, f"staff@{tenant}.example")]
    assert any(subject.endswith("flusso.zip: file di recapiti rifiutato") for subject in subjects), subjects


def test_new_file_replaces_only_given_kinds(stack: EmbeddedStack, tenant: str) -> None:
    directory.import_contacts(stack.rt, tenant, CONTACTS_CSV, "primo.csv", origin="api", actor="api:test")
    second = b"codice_anagrafico,cellulare\nC-001,+39 320 555 0101\nC-009,3205550102\nC-002,\n"

    report = directory.import_contacts(stack.rt, tenant, second, "secondo.csv", origin="api", actor="api:test")

    assert report.contacts_stored == 2
    assert _directory(stack, tenant) == {
        ("C-001", "sms", "+393205550101"),
        ("C-001", "email", "Mario.Rossi@example.it"),
        ("C-009", "sms", "+393205550102"),
    }


def test_same_contact_twice_kept_once(stack: EmbeddedStack, tenant: str) -> None:
    data = b"codice_anagrafico;cellulare;lingua\nC-1;3331234567;it\nC-1;+393331234567;en\n"

    report = directory.import_contacts(stack.rt, tenant, data, "doppio.csv", origin="api", actor="api:test")

    assert report.contacts_stored == 1
    with stack.rt.db.tenant_session(tenant) as session:
        [contact] = session.scalars(select(Contact).where(Contact.source == "directory")).all()
    assert contact.language == "en"
    assert contact.job_id is None


def test_office_upload_shows_report(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        page = client.get("/office/contacts")
        assert page.status_code == 200
        assert "Carica recapiti" in page.text
        response = client.post(
            "/office/contacts", data={"_csrf_token": csrf_token(page.text)},
            files={"contacts": ("recapiti.csv", CONTACTS_CSV, "text/csv")},
        )

    assert response.status_code == 200
    assert '<dd id="rows-read">5</dd>' in response.text
    assert '<dd id="contacts-stored">3</dd>' in response.text
    assert '<dd id="values-rejected">3</dd>' in response.text
    assert "061 ••• ••78" in response.text
    assert "1234 5678" not in response.text
    assert _directory(stack, tenant) == EXPECTED
    [entry] = _audit(stack, tenant)
    assert entry.user_id == operator.staff.user_id
    assert entry.actor == operator.staff.actor


def test_office_upload_without_csrf_rejected(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        response = client.post("/office/contacts", files={"contacts": ("recapiti.csv", CONTACTS_CSV, "text/csv")})

    assert response.status_code == 403
    assert _directory(stack, tenant) == set()


def test_office_upload_denied_to_viewer(stack: EmbeddedStack, tenant: str, viewer: StaffLogin) -> None:
    with signed_in_client(stack, viewer) as client:
        page = client.get("/office/contacts")
        assert page.status_code == 403
        landing = client.get("/office/")
        response = client.post(
            "/office/contacts", data={"_csrf_token": csrf_token(landing.text)},
            files={"contacts": ("recapiti.csv", CONTACTS_CSV, "text/csv")},
        )

    assert response.status_code == 403
    assert _directory(stack, tenant) == set()


def test_office_rejects_whole_file(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        page = client.get("/office/contacts")
        response = client.post(
            "/office/contacts", data={"_csrf_token": csrf_token(page.text)},
            files={"contacts": ("nomi.csv", NO_CODE_COLUMN_CSV, "text/csv")},
        )

    assert response.status_code == 422
    assert "Il file è stato rifiutato e nessun recapito è stato salvato." in response.text
    assert _directory(stack, tenant) == set()


@pytest.fixture
def contacts_token(stack: EmbeddedStack, tenant: str) -> str:
    return create_token(stack.rt.db, tenant, "rubrica", ["contacts:write"], created_by="test").token


def test_api_import_returns_report(stack: EmbeddedStack, tenant: str, contacts_token: str) -> None:
    with web_client(stack) as client:
        response = client.post(
            "/api/v1/contacts", headers={"Authorization": f"Bearer {contacts_token}"},
            files={"file": ("recapiti.csv", CONTACTS_CSV, "text/csv")},
        )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rows_read"] == 5
    assert body["contacts_stored"] == 3
    assert body["rejected_count"] == 3
    assert [item["row"] for item in body["rejected"]] == [3, 4, 5]
    assert body["rejected"][0]["value"] == "061 ••• ••78"
    assert body["rejected"][0]["field"] == "phone"
    assert "1234 5678" not in response.text
    assert _directory(stack, tenant) == EXPECTED
    [entry] = _audit(stack, tenant)
    assert entry.detail["origin"] == "api"


def test_api_raw_csv_body(stack: EmbeddedStack, tenant: str, contacts_token: str) -> None:
    with web_client(stack) as client:
        response = client.post(
            "/api/v1/contacts?filename=rubrica.csv", content=CONTACTS_CSV,
            headers={"Authorization": f"Bearer {contacts_token}", "Content-Type": "text/csv"},
        )

    assert response.status_code == 200, response.text
    assert response.json()["filename"] == "rubrica.csv"


def test_api_whole_file_rejected_as_problem(stack: EmbeddedStack, tenant: str, contacts_token: str) -> None:
    with web_client(stack) as client:
        response = client.post(
            "/api/v1/contacts", headers={"Authorization": f"Bearer {contacts_token}"},
            files={"file": ("nomi.csv", NO_CODE_COLUMN_CSV, "text/csv")},
        )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert problem["detail"].startswith("nomi.csv non ha una colonna")
    assert _directory(stack, tenant) == set()


def test_api_needs_contacts_scope(stack: EmbeddedStack, tenant: str) -> None:
    token = create_token(stack.rt.db, tenant, "flussi", ["jobs:write"], created_by="test").token
    with web_client(stack) as client:
        response = client.post(
            "/api/v1/contacts", headers={"Authorization": f"Bearer {token}"},
            files={"file": ("recapiti.csv", CONTACTS_CSV, "text/csv")},
        )

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "contacts:write" in response.json()["detail"]
    assert _directory(stack, tenant) == set()
