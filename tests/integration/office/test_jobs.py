"""The job pages over HTTP: the report, and the approval buttons by role."""

from __future__ import annotations

import html
import logging
from functools import cache

import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.demo.flow import DemoFlow, build_demo_flow
from bolletta.platform.jobs import states
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    WITHOUT_SMTP,
    StaffLogin,
    create_staff,
    create_test_tenant,
    csrf_token,
    demo_entries,
    load_job,
    mails_to,
    new_slug,
    signed_in_client,
    wait_idle,
    zip_archive,
)

MALFORMED_NAME = "IT01234567890_00009.xml"


@cache
def demo_flow() -> DemoFlow:
    return build_demo_flow()


def open_mixed_job(stack: EmbeddedStack, tenant: str) -> int:
    """A demo job with one malformed XML added, through its test batch."""
    entries = demo_entries(demo_flow()) | {MALFORMED_NAME: b"<p:FatturaElettronica"}
    opened = open_job(stack.rt, tenant, zip_archive(entries), "emissione_mista.zip", source="api",
                      opened_by="api:test")
    wait_idle(stack)
    assert load_job(stack, tenant, opened.job_id).state == states.TEST_SENT
    return opened.job_id


def approvals(stack: EmbeddedStack, tenant: str) -> list[AuditEntry]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "job.approve")))


def test_dashboard_lists_jobs(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    job_id = open_mixed_job(stack, tenant)

    with signed_in_client(stack, operator) as client:
        page = client.get("/office/")

    assert page.status_code == 200
    assert f'href="/office/jobs/{job_id}"' in page.text
    assert "emissione_mista.zip" in page.text


def test_job_page_shows_report(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    job_id = open_mixed_job(stack, tenant)
    job = load_job(stack, tenant, job_id)

    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/jobs/{job_id}")

    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f"JOB #{job_id}" in text
    assert "emissione_mista.zip" in text
    assert MALFORMED_NAME in text
    for number in demo_flow().document_numbers:
        assert number in text
    # Test recipients are masked like every contact in a list; the full address is not on the page.
    assert f"c\u2022\u2022\u2022@{tenant}.example" in text
    assert f"collaudo@{tenant}.example" not in text
    assert "system:test-batch" in text
    assert job.bills_rejected == 1


def test_unknown_job_is_not_found(stack: EmbeddedStack, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        page = client.get("/office/jobs/999999")

    assert page.status_code == 404


def test_operator_approves_by_button(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    job_id = open_mixed_job(stack, tenant)

    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/jobs/{job_id}")
        assert f'action="/office/jobs/{job_id}/approve"' in page.text
        response = client.post(f"/office/jobs/{job_id}/approve", data={"_csrf_token": csrf_token(page.text)})
        after = client.get(f"/office/jobs/{job_id}")

    assert response.status_code == 303
    assert response.headers["location"] == f"/office/jobs/{job_id}"
    job = load_job(stack, tenant, job_id)
    assert job.state == states.APPROVED
    assert job.approved_by == operator.staff.username
    assert f'action="/office/jobs/{job_id}/approve"' not in after.text
    entries = approvals(stack, tenant)
    assert [(entry.actor, entry.target, entry.ip) for entry in entries] == [
        (f"user:{operator.staff.username}", f"job:{job_id}", "127.0.0.1"),
    ]


def test_approve_without_csrf_is_forbidden(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    job_id = open_mixed_job(stack, tenant)

    with signed_in_client(stack, operator) as client:
        response = client.post(f"/office/jobs/{job_id}/approve")

    assert response.status_code == 403
    assert load_job(stack, tenant, job_id).state == states.TEST_SENT
    assert approvals(stack, tenant) == []


def test_viewer_cannot_approve(
    stack: EmbeddedStack, tenant: str, viewer: StaffLogin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bolletta.platform.office.routes")
    job_id = open_mixed_job(stack, tenant)

    with signed_in_client(stack, viewer) as client:
        page = client.get(f"/office/jobs/{job_id}")
        assert page.status_code == 200
        assert f'action="/office/jobs/{job_id}/approve"' not in page.text
        response = client.post(f"/office/jobs/{job_id}/approve", data={"_csrf_token": csrf_token(page.text)})

    assert response.status_code == 303
    assert response.headers["location"] == f"/office/jobs/{job_id}?error=approve"
    assert load_job(stack, tenant, job_id).state == states.TEST_SENT
    assert approvals(stack, tenant) == []
    rejections = [record.getMessage() for record in caplog.records if "rejected:" in record.getMessage()]
    assert rejections == [
        f"tenant {tenant}: approve of job {job_id} by {viewer.staff.username} rejected: "
        "Your role cannot approve test batches.",
    ]


def rejections(stack: EmbeddedStack, tenant: str) -> list[AuditEntry]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "job.reject")))


@pytest.mark.parametrize("reason", ["", "   ", "\t\n "])
def test_reject_with_blank_reason_is_refused(
    stack: EmbeddedStack, tenant: str, operator: StaffLogin, reason: str
) -> None:
    job_id = open_mixed_job(stack, tenant)

    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/jobs/{job_id}")
        response = client.post(f"/office/jobs/{job_id}/reject",
                               data={"_csrf_token": csrf_token(page.text), "reason": reason})

    assert response.status_code == 400
    assert "Scrivi il motivo del rifiuto: il test di pre-produzione non è stato respinto." in html.unescape(
        response.text)
    assert f'action="/office/jobs/{job_id}/reject"' in response.text
    job = load_job(stack, tenant, job_id)
    assert job.state == states.TEST_SENT
    assert job.rejection_reason is None
    assert job.released_at is None
    assert rejections(stack, tenant) == []


def test_reject_mail_names_reason_and_staff(stack: EmbeddedStack) -> None:
    tenant = new_slug("office")
    create_test_tenant(stack, tenant, **{**WITHOUT_SMTP, "notification_emails": [f"staff@{tenant}.example"]})
    operator = create_staff(stack, f"{tenant}.operatore", "tenant_operator", tenant)
    job_id = open_mixed_job(stack, tenant)

    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/jobs/{job_id}")
        response = client.post(f"/office/jobs/{job_id}/reject",
                               data={"_csrf_token": csrf_token(page.text), "reason": "  Importi da ricontrollare "})
    wait_idle(stack)

    assert response.status_code == 303
    job = load_job(stack, tenant, job_id)
    assert job.state == states.TEST_REJECTED
    assert job.rejection_reason == "Importi da ricontrollare"
    [mail] = [mail for mail in mails_to(stack, f"staff@{tenant}.example")
              if "test di pre-produzione respinto" in str(mail.message["Subject"])]
    body = mail.message.get_content()
    assert "Motivo del rifiuto: Importi da ricontrollare" in body
    assert f"Respinto da: {operator.staff.username}, " in body
