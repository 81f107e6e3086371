"""The job report in the backoffice: reasons shown in Italian, and reports stored as plain strings."""

from __future__ import annotations

import html
import re

from bolletta.platform.db.models.tenant import Job
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    StaffLogin,
    run_to_test_sent,
    sign_in,
    wait_idle,
    web_client,
    zip_archive,
)

MALFORMED_NAME = "IT01234567890_00001.xml"
MALFORMED_XML = b"<?xml version='1.0'?><p:FatturaElettronica><FatturaElettronicaHeader>"
REJECTED_ROW = re.compile(r"<tr><td>([^<]*)</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td></tr>")


def job_page(stack: EmbeddedStack, login: StaffLogin, job_id: int) -> str:
    """Fetch the job's backoffice page signed in as ``login``, and return its HTML."""
    with web_client(stack) as client:
        assert sign_in(client, login.staff.username, login.password).status_code == 303
        page = client.get(f"/office/jobs/{job_id}")
    assert page.status_code == 200
    return page.text


def rejected_rows(page: str) -> list[tuple[str, str]]:
    """The (file, reason) cells of the rejected records table."""
    return [(html.unescape(file), html.unescape(reason)) for file, reason in REJECTED_ROW.findall(page)]


def test_malformed_xml_reason_in_italian(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    archive = zip_archive({MALFORMED_NAME: MALFORMED_XML, "readme.txt": b"notes"})
    opened = open_job(stack.rt, tenant, archive, "broken.zip", source="api", opened_by="api:test")
    wait_idle(stack)

    page = job_page(stack, operator, opened.job_id)

    [(file, reason)] = rejected_rows(page)
    assert file == MALFORMED_NAME
    assert reason.startswith(f"{MALFORMED_NAME} è stato scartato: non è un XML ben formato (")
    assert reason.endswith("Esporta di nuovo il file dal sistema di fatturazione.")
    assert "<li>readme.txt: non è un file di bollette, di recapiti o un PDF, quindi non è stato letto</li>" in page
    assert "was rejected" not in page


def test_plain_string_report_still_shown(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    opened = open_job(stack.rt, tenant, zip_archive({MALFORMED_NAME: MALFORMED_XML}), "old.zip", source="api",
                      opened_by="api:test")
    wait_idle(stack)
    old_reason = f"{MALFORMED_NAME} was rejected: it is not well-formed XML (line 1)."
    with stack.rt.db.tenant_session(tenant) as session:
        job = session.get(Job, opened.job_id)
        assert job is not None
        # The report as the parser stored it before reasons were translatable.
        job.report = {
            "accepted": 0,
            "rejected": [{"file": MALFORMED_NAME, "record": None, "field": None, "reason": old_reason}],
            "ignored": [{"file": "readme.txt", "reason": "not a bill, contacts or PDF file, so it was not read"}],
            "duplicates": [],
            "warnings": ["GR20-900443E: Divisa is missing; the amounts are taken as EUR."],
            "archive_error": "old.zip is not a readable ZIP archive (File is not a zip file).",
            "contacts": 0,
            "without_contact": [],
        }
        session.commit()

    page = job_page(stack, operator, opened.job_id)

    assert rejected_rows(page) == [(MALFORMED_NAME, old_reason)]
    assert "<li>readme.txt: not a bill, contacts or PDF file, so it was not read</li>" in page
    assert "<li>GR20-900443E: Divisa is missing; the amounts are taken as EUR.</li>" in page
    assert '<p class="notice warning">old.zip is not a readable ZIP archive (File is not a zip file).</p>' in page


def test_parsed_job_page_without_archive_error(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    job_id = run_to_test_sent(stack, tenant)

    page = job_page(stack, operator, job_id)

    assert '<p class="notice warning">' not in page
    assert rejected_rows(page) == []
