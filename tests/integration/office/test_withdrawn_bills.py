"""Withdrawn bills in the backoffice: marked with their job's cause, hidden from the bill search by default.

A rejected job withdraws its bills; the same flow sent again opens a job whose bills are current.
"""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from sqlalchemy import func, select, update

from bolletta.platform.db.models.tenant import Bill, Job, Ticket
from bolletta.platform.jobs import states
from bolletta.platform.stack import EmbeddedStack
from tests.integration.office.test_reimport import act, demo_flow, upload
from tests.integration.stack_support import StaffLogin, csrf_token, signed_in_client

BADGE = '<span class="badge withdrawn">Ritirata</span>'


def reject_and_resend(stack: EmbeddedStack, client: httpx.Client) -> tuple[int, int]:
    """Upload the demo flow, reject its job, and upload it again; return the rejected and the new job."""
    flow = demo_flow()
    rejected, _ = upload(stack, client, flow.filename, flow.archive)
    act(stack, client, rejected, "reject", reason="Importi da ricontrollare")
    current, _ = upload(stack, client, flow.filename, flow.archive)
    return rejected, current


def listed_jobs(page: str) -> list[int]:
    """The JOB column of each bill row of the bill search, in page order."""
    return [int(job) for job in re.findall(r'<td><a href="/office/jobs/(\d+)">#\d+</a></td>', page)]


def bill_ids(stack: EmbeddedStack, tenant: str, job_id: int) -> list[int]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(Bill.id).where(Bill.job_id == job_id).order_by(Bill.id)))


def export_rows(client: httpx.Client, query: str) -> list[dict[str, str]]:
    token = csrf_token(client.get("/office/bills").text)
    response = client.post(f"/office/exports/bills/csv?{query}", data={"_csrf_token": token})
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_bill_search_hides_withdrawn_by_default(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    count = len(demo_flow().document_numbers)

    with signed_in_client(stack, operator) as client:
        rejected, current = reject_and_resend(stack, client)
        page = client.get("/office/bills").text

    assert set(listed_jobs(page)) == {current}
    assert len(listed_jobs(page)) == count
    assert BADGE not in page
    assert f"Fatture ritirate che corrispondono anche a questi filtri: {count}." in page
    assert "withdrawn=include" in page
    assert rejected not in listed_jobs(page)


def test_bill_search_marks_withdrawn_with_cause(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    count = len(demo_flow().document_numbers)

    with signed_in_client(stack, operator) as client:
        rejected, current = reject_and_resend(stack, client)
        both = client.get("/office/bills?withdrawn=include&sort=job&dir=asc").text
        only = client.get("/office/bills?withdrawn=only").text
        wrong = client.get("/office/bills?withdrawn=yes")

    assert listed_jobs(both) == [rejected] * count + [current] * count
    assert both.count(BADGE) == count
    cause = f'<a class="withdrawal-cause" href="/office/jobs/{rejected}">JOB #{rejected} respinto</a>'
    assert both.count(cause) == count
    assert "Fatture ritirate che corrispondono" not in both
    assert listed_jobs(only) == [rejected] * count
    assert only.count(BADGE) == count
    assert wrong.status_code == 200
    assert "withdrawn" in re.search(r'class="error-list".*?</div>', wrong.text, re.S).group(0)  # type: ignore[union-attr]
    assert listed_jobs(wrong.text) == []


def test_failed_cause_when_job_has_no_rejection(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        rejected, _ = reject_and_resend(stack, client)
        # A job released by a failed parse has no rejection reason.
        with stack.rt.db.tenant_session(tenant) as session:
            session.execute(update(Job).where(Job.id == rejected).values(rejection_reason=None))
            session.commit()
        page = client.get("/office/bills?withdrawn=only").text
        rows = export_rows(client, "withdrawn=only")

    assert f"JOB #{rejected} fallito</a>" in page
    assert "respinto" not in page
    assert {row["Causa del ritiro"] for row in rows} == {"JOB fallito"}


def test_withdrawn_bill_page_names_job_and_current(stack: EmbeddedStack, tenant: str,
                                                    operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        rejected, current = reject_and_resend(stack, client)
        withdrawn_id, current_id = bill_ids(stack, tenant, rejected)[0], bill_ids(stack, tenant, current)[0]
        withdrawn_page = client.get(f"/office/bills/{withdrawn_id}").text
        current_page = client.get(f"/office/bills/{current_id}").text

    assert BADGE in withdrawn_page
    assert f'href="/office/jobs/{rejected}">JOB #{rejected} respinto</a>' in withdrawn_page
    assert "Importi da ricontrollare" in withdrawn_page
    assert f'<a href="/office/bills/{current_id}">Fattura in vigore con questo numero, nel JOB #{current}</a>' \
        in withdrawn_page
    assert BADGE not in current_page
    assert "Fattura in vigore" not in current_page


def test_rejected_job_page_marks_each_bill(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    count = len(demo_flow().document_numbers)

    with signed_in_client(stack, operator) as client:
        rejected, current = reject_and_resend(stack, client)
        rejected_page = client.get(f"/office/jobs/{rejected}").text
        current_page = client.get(f"/office/jobs/{current}").text

    marked = re.findall(r'<span class="badge withdrawn"[^>]*>Ritirata</span>', rejected_page)
    assert len(marked) == count
    assert "Archivio e fatture rilasciati" in rejected_page
    for bill_id in bill_ids(stack, tenant, rejected):
        assert f'href="/office/bills/{bill_id}"' in rejected_page
    assert "badge withdrawn" not in current_page
    assert "Archivio e fatture rilasciati" not in current_page


def test_bill_export_follows_filter_and_says_withdrawn(stack: EmbeddedStack, tenant: str,
                                                       operator: StaffLogin) -> None:
    count = len(demo_flow().document_numbers)

    with signed_in_client(stack, operator) as client:
        rejected, current = reject_and_resend(stack, client)
        default = export_rows(client, "")
        both = export_rows(client, "withdrawn=include")

    assert {row["JOB"] for row in default} == {str(current)}
    assert {row["Ritirata il"] for row in default} == {""}
    assert {row["Causa del ritiro"] for row in default} == {""}
    withdrawn = [row for row in both if row["JOB"] == str(rejected)]
    assert len(withdrawn) == len(both) - count == count
    assert all(row["Ritirata il"] for row in withdrawn)
    assert {row["Causa del ritiro"] for row in withdrawn} == {"JOB respinto"}


@pytest.mark.parametrize("path", ["/office/tickets", "/office/tickets?job_id={job}"])
def test_ticket_search_leaves_out_test_tickets(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                               path: str) -> None:
    with signed_in_client(stack, operator) as client:
        rejected, _ = reject_and_resend(stack, client)
        page = client.get(path.format(job=rejected)).text

    with stack.rt.db.tenant_session(tenant) as session:
        state = session.get_one(Job, rejected).state
        test_tickets = session.scalar(select(func.count(Ticket.id)).where(Ticket.job_id == rejected))
    assert state == states.TEST_REJECTED
    assert test_tickets == 2  # test_batch_size 1, sent to an e-mail and an SMS test recipient
    assert "Totale risultati: 0" in page
