"""Parsing a job's archive: good bills import, bad files are reported, staff are e-mailed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bolletta.platform.db.models.tenant import Bill, JobTransition, Ticket
from bolletta.platform.demo.flow import DemoFlow
from bolletta.platform.i18n.message import render
from bolletta.platform.jobs import notes, states
from bolletta.platform.jobs.notes import read_note, render_note
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import demo_entries, load_job, mails_to, wait_idle, zip_archive

MALFORMED_NAME = "IT01234567890_00001.xml"
MALFORMED_XML = b"<?xml version='1.0'?><p:FatturaElettronica><FatturaElettronicaHeader>"
DOCTYPE_NAME = "IT01234567890_00002.xml"
DOCTYPE_XML = (
    b"<?xml version='1.0'?><!DOCTYPE p [<!ENTITY name 'ACME'>]>"
    b"<p:FatturaElettronica xmlns:p='http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2'>"
    b"&name;</p:FatturaElettronica>"
)


def report_text(value: str | dict[str, Any]) -> str:
    """The English text of a report message, stored as a string or as ``{"msgid", "params"}``."""
    if isinstance(value, str):
        return value
    params = {name: report_text(param) if isinstance(param, dict) else param
              for name, param in value.get("params", {}).items()}
    return str(value["msgid"]).format(**params)


def open_archive(stack: EmbeddedStack, tenant: str, archive: bytes, filename: str) -> int:
    opened = open_job(stack.rt, tenant, archive, filename, source="api", opened_by="api:test")
    wait_idle(stack)
    return opened.job_id


def test_malformed_only_archive_fails(stack: EmbeddedStack, tenant: str) -> None:
    job_id = open_archive(stack, tenant, zip_archive({MALFORMED_NAME: MALFORMED_XML}), "broken.zip")

    job = load_job(stack, tenant, job_id)
    assert job.state == states.FAILED
    assert job.bills_accepted == 0
    assert job.report["accepted"] == 0
    rejected = job.report["rejected"]
    assert [item["file"] for item in rejected] == [MALFORMED_NAME]
    assert rejected[0]["reason"]["msgid"].startswith("{file} was rejected: it is not well-formed XML (")
    assert rejected[0]["reason"]["params"]["file"] == MALFORMED_NAME
    assert render(rejected[0]["reason"]).startswith(f"{MALFORMED_NAME} è stato scartato: non è un XML ben formato")
    with stack.rt.db.tenant_session(tenant) as session:
        assert session.scalars(select(Bill)).all() == []
        assert session.scalars(select(Ticket)).all() == []
        last = session.scalars(
            select(JobTransition).where(JobTransition.job_id == job_id).order_by(JobTransition.id.desc())
        ).first()
    assert last is not None
    assert (last.from_state, last.to_state, last.actor) == (states.PARSING, states.FAILED, "system:parser")
    assert read_note(last.note) == notes.parse_failed(None)
    assert render_note(last.note, "it") == "nessuna fattura accettata"


def test_failed_job_emails_staff(stack: EmbeddedStack, mail_tenant: str) -> None:
    tenant = mail_tenant
    job_id = open_archive(stack, tenant, zip_archive({MALFORMED_NAME: MALFORMED_XML}), "broken.zip")

    staff_address = f"staff@{tenant}.example"
    failures = [mail for mail in mails_to(stack, staff_address)
                if "lavorazione non riuscita" in str(mail.message["Subject"])]
    assert len(failures) == 1
    mail = failures[0]
    assert mail.recipients == (staff_address,)
    # NOTE: Python's email folding (3.11) may break a long subject right after "Subject:", and the
    # parser then keeps the leading space of the continuation line, hence the strip().
    assert str(mail.message["Subject"]).strip() == (
        f"[Utility {tenant.upper()} S.p.A.] Lavorazione #{job_id} (broken.zip): lavorazione non riuscita"
    )
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Bollette accettate: 0" in text
    assert MALFORMED_NAME in text
    assert f"{MALFORMED_NAME} è stato scartato: non è un XML ben formato" in text
    assert "Esporta di nuovo il file dal sistema di fatturazione." in text


def test_unreadable_archive_fails_with_error(stack: EmbeddedStack, tenant: str) -> None:
    job_id = open_archive(stack, tenant, b"PK\x03\x04 this is not a whole zip file", "truncated.zip")

    job = load_job(stack, tenant, job_id)
    assert job.state == states.FAILED
    assert render(job.report["archive_error"]).startswith("truncated.zip non è un archivio ZIP leggibile (")
    assert job.report["accepted"] == 0


def test_mixed_archive_keeps_good_bills(stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow) -> None:
    entries = demo_entries(demo_flow) | {MALFORMED_NAME: MALFORMED_XML, DOCTYPE_NAME: DOCTYPE_XML}
    job_id = open_archive(stack, tenant, zip_archive(entries), "mixed.zip")

    job = load_job(stack, tenant, job_id)
    assert job.state == states.TEST_SENT
    assert job.bills_accepted == len(demo_flow.document_numbers)
    assert job.report["accepted"] == len(demo_flow.document_numbers)
    with stack.rt.db.tenant_session(tenant) as session:
        numbers = session.scalars(select(Bill.document_number).where(Bill.job_id == job_id)).all()
    assert sorted(numbers) == sorted(demo_flow.document_numbers)

    rejected = {item["file"]: render(item["reason"]) for item in job.report["rejected"]}
    assert set(rejected) == {MALFORMED_NAME, DOCTYPE_NAME}
    assert "non è un XML ben formato" in rejected[MALFORMED_NAME]
    assert "contiene una dichiarazione DOCTYPE" in rejected[DOCTYPE_NAME]
    assert job.bills_rejected == 2
    assert job.report["duplicates"] == []
