"""Sending a flow again after staff rejected its job, through the backoffice over HTTP.

The rejected job's archive and bills no longer block a new job; a job in any other state still does.
"""

from __future__ import annotations

import io
import zipfile
from functools import cache

import httpx
from sqlalchemy import select

from bolletta.platform.db.models.tenant import AuditEntry, Bill, Job
from bolletta.platform.demo.flow import DemoFlow, build_demo_flow
from bolletta.platform.jobs import states
from bolletta.platform.stack import EmbeddedStack
from tests.integration.office.test_upload import post_upload
from tests.integration.stack_support import StaffLogin, csrf_token, load_job, signed_in_client, wait_idle


@cache
def demo_flow() -> DemoFlow:
    return build_demo_flow()


def rezipped(archive: bytes) -> bytes:
    """The same members in a new ZIP, stored instead of deflated and in reverse order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for member in reversed(source.infolist()):
            copy.writestr(zipfile.ZipInfo(member.filename, member.date_time), source.read(member))
    assert out.getvalue() != archive
    return out.getvalue()


def upload(stack: EmbeddedStack, client: httpx.Client, name: str, content: bytes) -> tuple[int, str]:
    """Upload through the form; return the job id the redirect names and the redirect's notice."""
    response = post_upload(client, name, content)
    wait_idle(stack)
    assert response.status_code == 303, response.status_code
    path, _, query = response.headers["location"].partition("?")
    return int(path.rsplit("/", 1)[-1]), query


def act(stack: EmbeddedStack, client: httpx.Client, job_id: int, action: str, **form: str) -> None:
    page = client.get(f"/office/jobs/{job_id}")
    response = client.post(f"/office/jobs/{job_id}/{action}", data={"_csrf_token": csrf_token(page.text), **form})
    wait_idle(stack)
    assert response.headers["location"] == f"/office/jobs/{job_id}", response.headers["location"]


def bill_jobs(stack: EmbeddedStack, tenant: str) -> dict[int, list[str]]:
    """Each job's document numbers, in the order they were stored."""
    with stack.rt.db.tenant_session(tenant) as session:
        rows = session.execute(select(Bill.job_id, Bill.document_number).order_by(Bill.id)).all()
    jobs: dict[int, list[str]] = {}
    for job_id, number in rows:
        jobs.setdefault(job_id, []).append(number)
    return jobs


def test_rejected_job_lets_same_archive_and_copy_in(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    flow = demo_flow()
    expected = sorted(flow.document_numbers)

    with signed_in_client(stack, operator) as client:
        first, _ = upload(stack, client, flow.filename, flow.archive)
        act(stack, client, first, "reject", reason="Mancano i destinatari di test")
        again, notice = upload(stack, client, flow.filename, flow.archive)
        act(stack, client, again, "reject", reason="Importi da ricontrollare")
        copy, copy_notice = upload(stack, client, "copia.zip", rezipped(flow.archive))

    assert len({first, again, copy}) == 3
    assert notice == copy_notice == ""
    assert load_job(stack, tenant, again).state == states.TEST_REJECTED
    assert load_job(stack, tenant, copy).state == states.TEST_SENT
    for job_id in (again, copy):
        job = load_job(stack, tenant, job_id)
        assert job.bills_accepted == len(expected)
        assert job.report["duplicates"] == []
    # The rejected jobs keep their state, reason, report and bills for the audit trail.
    rejected = load_job(stack, tenant, first)
    assert rejected.state == states.TEST_REJECTED
    assert rejected.rejection_reason == "Mancano i destinatari di test"
    assert rejected.bills_accepted == len(expected)
    assert rejected.report["accepted"] == len(expected)
    stored = bill_jobs(stack, tenant)
    assert {job_id: sorted(numbers) for job_id, numbers in stored.items()} == {
        first: expected, again: expected, copy: expected}
    with stack.rt.db.tenant_session(tenant) as session:
        in_force = set(session.scalars(select(Bill.job_id).where(Bill.withdrawn_at.is_(None))))
        archives = {job_id: key for job_id, key in session.execute(select(Job.id, Job.archive_key))}
        audit = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "job.reject",
                                                                AuditEntry.target == f"job:{first}")).one()
    assert in_force == {copy}
    assert audit["bills_withdrawn"] == len(expected)
    # Each job has its own copy of the archive, so deleting one leaves the others readable.
    assert archives[first] != archives[again]
    assert stack.rt.storage.get(archives[first]) == stack.rt.storage.get(archives[again]) == flow.archive


def test_approved_job_still_holds_archive_and_bills(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    flow = demo_flow()

    with signed_in_client(stack, operator) as client:
        first, _ = upload(stack, client, flow.filename, flow.archive)
        act(stack, client, first, "approve")
        again, notice = upload(stack, client, flow.filename, flow.archive)
        copy, _ = upload(stack, client, "copia.zip", rezipped(flow.archive))

    assert load_job(stack, tenant, first).state == states.APPROVED
    assert (again, notice) == (first, "notice=duplicate")
    job = load_job(stack, tenant, copy)
    assert job.state == states.FAILED
    assert job.bills_accepted == 0
    assert sorted(item["document_number"] for item in job.report["duplicates"]) == sorted(flow.document_numbers)
    assert {item["job_id"] for item in job.report["duplicates"]} == {first}
    assert list(bill_jobs(stack, tenant)) == [first]


def test_failed_job_lets_same_archive_in(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    flow = demo_flow()
    copy = rezipped(flow.archive)

    with signed_in_client(stack, operator) as client:
        first, _ = upload(stack, client, flow.filename, flow.archive)
        act(stack, client, first, "approve")
        failed, _ = upload(stack, client, "copia.zip", copy)
        again, notice = upload(stack, client, "copia.zip", copy)

    assert load_job(stack, tenant, failed).state == states.FAILED
    assert again != failed
    assert notice == ""
    # The new job fails again for the same reason, because the approved job still has the bills.
    assert load_job(stack, tenant, again).state == states.FAILED
    assert load_job(stack, tenant, again).report["duplicates"]
