"""A tenant's cost layout and accepted flow formats reach the job parser."""

from __future__ import annotations

import json

from sqlalchemy import select

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    create_test_tenant,
    load_job,
    new_slug,
    open_demo_job,
    wait_idle,
    zip_archive,
)
from tests.unit.ingest.test_jsonl import FULL_RECORD


def test_receipt_layout_is_used_for_fatturapa(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("layout"), costs_layout="receipt_2025")
    open_demo_job(stack, tenant)
    wait_idle(stack)

    with stack.rt.db.tenant_session(tenant) as session:
        layouts = {bill.details.get("costs_layout") for bill in session.scalars(select(Bill))}
    assert layouts == {"receipt_2025"}


def test_format_not_accepted_imports_nothing(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("formats"), flow_formats=["fatturapa"])
    record = json.loads(json.dumps(FULL_RECORD))
    record["document"].pop("pdf", None)
    archive = zip_archive({"emissione.jsonl": (json.dumps(record) + "\n").encode()})

    opened = open_job(stack.rt, tenant, archive, "emissione.zip", source="api", opened_by="api:test")
    wait_idle(stack)

    job = load_job(stack, tenant, opened.job_id)
    assert job.bills_accepted == 0
    assert job.state == "failed"
