"""The job page of a job with thousands of problems: bounded size, right counts, paging, CSV whole."""

from __future__ import annotations

import codecs
import csv
import html
import io
import re

from bolletta.platform.db.models.tenant import Job
from bolletta.platform.office.job_page import ROWS_PER_PAGE
from bolletta.platform.stack import EmbeddedStack
from tests.integration.large_report import (
    REJECTED,
    REVIEW_CHECKS,
    WARNINGS,
    WITHOUT_CONTACT,
    add_large_job,
    large_report,
    rejected_reason,
    total_problems,
)
from tests.integration.stack_support import StaffLogin, csrf_token, signed_in_client

MAX_PAGE_BYTES = 300_000
REJECTED_ROW = re.compile(r"<tr><td>flusso\.jsonl</td><td>(\d+)</td>")
WARNING_ROW = re.compile(r"<li>W-\d+: ")
REVIEW_TITLE = "Avvisi da verificare prima del benestare"


def page_of(stack: EmbeddedStack, login: StaffLogin, job_id: int, query: str = "") -> str:
    with signed_in_client(stack, login) as client:
        response = client.get(f"/office/jobs/{job_id}{query}")
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_page_size_bounded(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    job_id = add_large_job(stack, tenant, "test_sent")

    page = page_of(stack, operator, job_id)

    assert len(page.encode()) < MAX_PAGE_BYTES
    assert len(REJECTED_ROW.findall(page)) == ROWS_PER_PAGE
    assert len(WARNING_ROW.findall(page)) == ROWS_PER_PAGE


def test_page_counts_every_problem(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    job_id = add_large_job(stack, tenant, "test_sent")

    page = html.unescape(page_of(stack, operator, job_id))

    review_total = sum(REVIEW_CHECKS.values())
    assert f'{REVIEW_TITLE} <span class="badge" id="review-count">{review_total}</span>' in page
    assert "<li>Importo molto diverso dalla fattura precedente: 1500</li>" in page
    assert "<li>Letture del contatore mancanti: 900</li>" in page
    assert "<li>Codice cliente con più di un codice fiscale: 100</li>" in page
    assert f"Record scartati ({REJECTED})" in page
    assert f"Avvisi ({WARNINGS})" in page
    assert f"Clienti senza un recapito utilizzabile ({WITHOUT_CONTACT})" in page
    assert f"Altre {REJECTED - ROWS_PER_PAGE} righe non sono mostrate qui: scarica il report CSV" in page
    assert f"Altre {review_total - ROWS_PER_PAGE} righe non sono mostrate qui" in page
    assert page.index(REVIEW_TITLE) < page.index(f"/office/jobs/{job_id}/reject")


def test_page_parameter_pages_sections(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    job_id = add_large_job(stack, tenant, "test_sent")
    last_page = REJECTED // ROWS_PER_PAGE

    first = page_of(stack, operator, job_id)
    last = page_of(stack, operator, job_id, f"?page={last_page}")
    beyond = page_of(stack, operator, job_id, "?page=999999")
    invalid = page_of(stack, operator, job_id, "?page=x")

    assert REJECTED_ROW.findall(first)[0] == "1"
    assert f'href="/office/jobs/{job_id}?page=2"' in first
    records = [int(record) for record in REJECTED_ROW.findall(last)]
    assert records == list(range(REJECTED - ROWS_PER_PAGE + 1, REJECTED + 1))
    assert html.escape(rejected_reason(REJECTED)) in last
    assert f"Pagina {last_page} di {last_page} del report" in last
    assert f'?page={last_page + 1}"' not in last
    assert REJECTED_ROW.findall(beyond) == REJECTED_ROW.findall(last)
    assert REJECTED_ROW.findall(invalid) == REJECTED_ROW.findall(first)


def test_csv_keeps_every_row(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    job_id = add_large_job(stack, tenant, "test_sent")

    with signed_in_client(stack, operator) as client:
        response = client.get(f"/office/jobs/{job_id}/report.csv")

    assert response.status_code == 200
    text = response.content[len(codecs.BOM_UTF8):].decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header_at = rows.index([]) + 1
    problems = rows[header_at + 1:]
    assert len(problems) == total_problems()
    assert sum(1 for row in problems if row[0] == "Record scartato") == REJECTED
    assert problems[-1][4] == f"C-{WITHOUT_CONTACT}"


def test_review_box_only_before_approval(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                         tested_job: int) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        job = session.get(Job, tested_job)
        assert job is not None
        job.report = {**(job.report or {}), "review": large_report()["review"][:3]}
        session.commit()

    with signed_in_client(stack, operator) as client:
        before = html.unescape(client.get(f"/office/jobs/{tested_job}").text)
        approved = client.post(f"/office/jobs/{tested_job}/approve", data={"_csrf_token": csrf_token(before)})
        after = html.unescape(client.get(f"/office/jobs/{tested_job}").text)

    assert approved.status_code == 303
    assert approved.headers["location"] == f"/office/jobs/{tested_job}"
    assert 'id="review-count">3</span>' in before
    assert "Avvisi emersi prima del benestare" not in before
    assert REVIEW_TITLE not in after
    assert 'id="review-count"' not in after
    assert "Avvisi emersi prima del benestare (3)" in after
    assert "<li>R-3: " in after
