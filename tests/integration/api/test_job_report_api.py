"""``GET /api/v1/jobs/{id}/report``: the CSV report's counts and rows as JSON, translated and masked."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bolletta.platform.api.job_report import MAX_REPORT_PER_PAGE
from bolletta.platform.api.routes import REPORT_SUMMARY_ROWS
from bolletta.platform.api.tokens import create_token
from bolletta.platform.demo.flow import build_demo_flow
from bolletta.platform.i18n.message import T_, to_json
from bolletta.platform.jobs import states
from bolletta.platform.stack import EmbeddedStack
from tests.integration.large_report import REJECTED, REVIEW_CHECKS, WITHOUT_CONTACT, add_large_job, total_problems
from tests.integration.stack_support import run_to_test_sent, web_client
from tests.integration.stats import dataset

PHONE = "+393471112299"


@pytest.fixture
def client(stack: EmbeddedStack) -> Iterator[httpx.Client]:
    with web_client(stack) as http:
        yield http


def bearer(stack: EmbeddedStack, tenant: str, *scopes: str) -> dict[str, str]:
    token = create_token(stack.rt.db, tenant, "gestionale", list(scopes or ["jobs:read"]), created_by="test").token
    return {"Authorization": f"Bearer {token}"}


def add_job(stack: EmbeddedStack, tenant: str, state: str, report: dict[str, object]) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        job = dataset.add_job(session, f"{state}.zip", "2025-01-09 08:00")
        job.state = state
        job.report = report
        session.commit()
        return job.id


def test_report_of_parsed_demo_job(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    flow = build_demo_flow(seed=11)
    job_id = run_to_test_sent(stack, tenant, flow)

    response = client.get(f"/api/v1/jobs/{job_id}/report", headers=bearer(stack, tenant))

    assert response.status_code == 200
    body = response.json()
    assert body["job_id"] == job_id
    assert body["state"] == states.TEST_SENT
    assert body["counts"]["bills_accepted"] == len(flow.document_numbers)
    assert body["counts"]["records_rejected"] == 0
    assert set(body["counts"]) == {"bills_accepted", "records_rejected", "duplicates", "files_ignored", "warnings",
                                   "review_warnings", "without_contact", "contacts"}


def test_rejected_contact_is_masked_and_translated(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    reason = T_("{file}, line {line}: the phone number {number} in {field} is not valid. Correct it, for "
                "example 3331234567 or +393331234567. The bill is read without this contact.",
                file="flusso.jsonl", line=3, number=repr(PHONE), field="mobile")
    report = {"accepted": 0, "rejected": [{"file": "flusso.jsonl", "record": 3, "field": "mobile",
                                           "reason": to_json(reason)}]}
    job_id = add_job(stack, tenant, states.FAILED, report)
    headers = bearer(stack, tenant)

    italian = client.get(f"/api/v1/jobs/{job_id}/report", headers=headers).json()
    english = client.get(f"/api/v1/jobs/{job_id}/report", headers=headers | {"Accept-Language": "en"}).json()
    status = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()

    row = english["problems"][0]
    assert row["kind"] == "rejected"
    assert row["label"] == "Record rejected"
    assert row["record"] == "3"
    assert row["value"] == "+39 347 ••• ••99"
    assert "+39 347 ••• ••99" in row["reason"]
    assert italian["problems"][0]["label"] == "Record scartato"
    assert italian["problems"][0]["reason"] != row["reason"]
    assert PHONE not in str(italian) + str(english)
    assert PHONE not in str(status["report"])


@pytest.mark.parametrize("state", [states.RECEIVED, states.PARSING])
def test_report_before_parsing_is_409(stack: EmbeddedStack, tenant: str, client: httpx.Client, state: str) -> None:
    job_id = add_job(stack, tenant, state, {})

    response = client.get(f"/api/v1/jobs/{job_id}/report", headers=bearer(stack, tenant) | {"Accept-Language": "en"})

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Conflict"
    assert state in response.json()["detail"]


def test_report_needs_jobs_read(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    job_id = add_job(stack, tenant, states.FAILED, {})

    response = client.get(f"/api/v1/jobs/{job_id}/report", headers=bearer(stack, tenant, "jobs:write"))

    assert response.status_code == 403


def test_report_pages_return_every_row(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    job_id = add_large_job(stack, tenant, states.TEST_SENT)
    headers = bearer(stack, tenant) | {"Accept-Language": "en"}
    per_page = 700
    expected_pages = -(-total_problems() // per_page)

    pages = [client.get(f"/api/v1/jobs/{job_id}/report", params={"page": page, "per_page": per_page},
                        headers=headers).json() for page in range(1, expected_pages + 1)]
    rows = [row for body in pages for row in body["problems"]]

    assert [body["meta"]["pages"] for body in pages] == [expected_pages] * expected_pages
    assert pages[0]["meta"]["total"] == total_problems()
    assert len(rows) == total_problems()
    assert [int(row["record"]) for row in rows if row["kind"] == "rejected"] == list(range(1, REJECTED + 1))
    assert rows[-1]["value"] == f"C-{WITHOUT_CONTACT}"
    assert pages[0]["counts"]["records_rejected"] == REJECTED


def test_report_default_page_is_bounded(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    job_id = add_large_job(stack, tenant, states.TEST_SENT)
    headers = bearer(stack, tenant)

    default = client.get(f"/api/v1/jobs/{job_id}/report", headers=headers).json()
    beyond = client.get(f"/api/v1/jobs/{job_id}/report", params={"page": 1000}, headers=headers).json()
    too_large = client.get(f"/api/v1/jobs/{job_id}/report", params={"per_page": MAX_REPORT_PER_PAGE + 1},
                           headers=headers)

    assert len(default["problems"]) == MAX_REPORT_PER_PAGE
    assert default["meta"] == {"total": total_problems(), "page": 1, "per_page": MAX_REPORT_PER_PAGE,
                               "pages": -(-total_problems() // MAX_REPORT_PER_PAGE)}
    assert beyond["problems"] == []
    assert too_large.status_code == 400


def test_small_report_whole_without_paging(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    report = {"accepted": 0, "archive_error": "broken.zip is not a readable ZIP archive.",
              "rejected": [{"file": "f.jsonl", "record": 1, "field": "amount_due", "reason": "missing"}]}
    job_id = add_job(stack, tenant, states.FAILED, report)

    body = client.get(f"/api/v1/jobs/{job_id}/report", headers=bearer(stack, tenant)).json()

    assert [row["kind"] for row in body["problems"]] == ["archive_error", "rejected"]
    assert body["meta"] == {"total": 2, "page": 1, "per_page": MAX_REPORT_PER_PAGE, "pages": 1}


def test_job_status_embeds_bounded_report(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    job_id = add_large_job(stack, tenant, states.TEST_SENT)

    response = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(stack, tenant))

    body = response.json()
    assert len(response.content) < 200_000
    assert body["report_truncated"] is True
    assert body["report_sizes"]["rejected"] == REJECTED
    assert body["report_sizes"]["review"] == sum(REVIEW_CHECKS.values())
    assert len(body["report"]["rejected"]) == REPORT_SUMMARY_ROWS
    assert body["report"]["rejected"][0]["record"] == 1
    assert body["report"]["contacts"] == 0
    assert body["links"]["report"] == f"/api/v1/jobs/{job_id}/report"
