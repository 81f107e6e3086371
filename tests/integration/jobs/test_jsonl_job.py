"""A JSON Lines flow goes through a job like FatturaPA: bills, details and flow contacts stored."""

from __future__ import annotations

import json

from sqlalchemy import select

from bolletta.platform.db.models.tenant import Bill, Contact
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import load_job, wait_idle, zip_archive
from tests.unit.ingest.test_jsonl import FULL_RECORD


def test_jsonl_flow_stores_details_and_contacts(stack: EmbeddedStack, tenant: str) -> None:
    record = json.loads(json.dumps(FULL_RECORD))
    record["document"].pop("pdf", None)
    archive = zip_archive({"emissione.jsonl": (json.dumps(record) + "\n").encode()})

    opened = open_job(stack.rt, tenant, archive, "emissione.zip", source="api", opened_by="api:test")
    wait_idle(stack)

    job = load_job(stack, tenant, opened.job_id)
    assert job.bills_accepted == 1, job.report
    with stack.rt.db.tenant_session(tenant) as session:
        bill = session.scalars(select(Bill).where(Bill.job_id == job.id)).one()
        contacts = session.scalars(select(Contact).where(Contact.job_id == job.id)).all()
    assert bill.document_number == "2025/E/000123"
    assert bill.details["offer"]["name"] == "Luce Casa Fissa"
    assert bill.details["payment"]["pagopa"]["notice_code"] == "301000000000012345"
    assert {contact.source for contact in contacts} == {"flow"}
    assert {contact.channel for contact in contacts} >= {"sms", "whatsapp"}
