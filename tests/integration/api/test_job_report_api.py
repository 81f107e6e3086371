"""``GET /api/v1/jobs/{id}/report``: the CSV report's counts and rows as JSON, translated and masked."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bolletta.platform.api.tokens import create_token
from bolletta.platform.demo.flow import build_demo_flow
from bolletta.platform.i18n.message import T_, to_json
from bolletta.platform.jobs import states
from bolletta.platform.stack import EmbeddedStack
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
