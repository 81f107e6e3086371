"""Which contacts a bill gets: its flow's, else the job's contacts CSV, else the directory's."""

from __future__ import annotations

from sqlalchemy import select

from bolletta.platform.contacts import directory
from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.dispatch.contacts import contacts_for, contacts_for_bills
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.flow_records import jsonl_lines, jsonl_record
from tests.integration.stack_support import load_job, wait_idle, zip_archive

DIRECTORY_CSV = b"codice_anagrafico;cellulare\nC-FLOW;3331110003\nC-CSV;3331110013\nC-DIR;3331110023\n"
JOB_CSV = b"codice_anagrafico;cellulare\nC-FLOW;3331110002\nC-CSV;3331110012\n"


def test_flow_then_job_csv_then_directory(stack: EmbeddedStack, tenant: str) -> None:
    directory.import_contacts(stack.rt, tenant, DIRECTORY_CSV, "rubrica.csv", origin="api", actor="api:test")
    flow = jsonl_lines(
        jsonl_record("P-1", "C-FLOW", contacts=[{"channel": "sms", "address": "3331110001"}]),
        jsonl_record("P-2", "C-CSV"),
        jsonl_record("P-3", "C-DIR"),
        jsonl_record("P-4", "C-NONE"),
    )
    archive = zip_archive({"emissione.jsonl": flow, "contacts.csv": JOB_CSV})

    opened = open_job(stack.rt, tenant, archive, "precedenza.zip", source="api", opened_by="api:test")
    wait_idle(stack)

    job = load_job(stack, tenant, opened.job_id)
    assert job.bills_accepted == 4, job.report
    assert job.report["without_contact"] == ["C-DIR", "C-NONE"]
    with stack.rt.db.tenant_session(tenant) as session:
        bills = {bill.customer_code: bill for bill in session.scalars(select(Bill).where(Bill.job_id == job.id))}
        chosen = {
            code: [(contact.source, contact.address) for contact in contacts_for(session, bill)]
            for code, bill in bills.items()
        }
    assert chosen["C-FLOW"] == [("flow", "+393331110001")]
    assert chosen["C-CSV"] == [("job_csv", "+393331110012")]
    assert chosen["C-DIR"] == [("directory", "+393331110023")]
    assert chosen["C-NONE"] == []


def test_batched_contacts_match_contacts_for(stack: EmbeddedStack, tenant: str) -> None:
    directory.import_contacts(stack.rt, tenant, DIRECTORY_CSV, "rubrica.csv", origin="api", actor="api:test")
    flow = jsonl_lines(
        jsonl_record("P-1", "C-FLOW", contacts=[{"channel": "sms", "address": "3331110001"},
                                                {"channel": "email", "address": "flow@example.com"}]),
        jsonl_record("P-2", "C-CSV"),
        jsonl_record("P-3", "C-DIR"),
        jsonl_record("P-4", "C-NONE"),
        jsonl_record("P-5", "C-CSV"),
        jsonl_record("P-6", "C-DIR"),
    )
    archive = zip_archive({"emissione.jsonl": flow, "contacts.csv": JOB_CSV})

    opened = open_job(stack.rt, tenant, archive, "batch.zip", source="api", opened_by="api:test")
    wait_idle(stack)

    job = load_job(stack, tenant, opened.job_id)
    assert job.bills_accepted == 6, job.report
    with stack.rt.db.tenant_session(tenant) as session:
        bills = session.scalars(select(Bill).where(Bill.job_id == job.id).order_by(Bill.id)).all()
        batched = contacts_for_bills(session, bills)
        sources = set()
        for bill in bills:
            expected = [contact.id for contact in contacts_for(session, bill)]
            assert [contact.id for contact in batched[bill.id]] == expected, bill.customer_code
            sources.update(contact.source for contact in batched[bill.id])
    assert sorted(batched) == [bill.id for bill in bills]
    assert sources == {"flow", "job_csv", "directory"}
