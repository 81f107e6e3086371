"""Parsing a flow of thousands of bills in committed batches, and running it again after a crash."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from bolletta.platform.db.models.tenant import Bill, CostLine, Instalment
from bolletta.platform.demo.bulk_flow import bulk_document_number, write_bulk_flow
from bolletta.platform.ingest.reader import read_flow
from bolletta.platform.jobs import parsing, states
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import held_outbox, load_job, wait_idle

LARGE_FLOW_BILLS = 2_500
"""Two full batches of the default size and a partial one."""


def bulk_archive(bills: int, *, pdf_every: int = 0) -> bytes:
    buffer = io.BytesIO()
    write_bulk_flow(buffer, bills, pdf_every=pdf_every, pdf_bytes=1024)
    return buffer.getvalue()


def open_bulk_job(stack: EmbeddedStack, tenant: str, data: bytes) -> int:
    return open_job(stack.rt, tenant, data, "bulk.zip", source="api", opened_by="api:test").job_id


def bill_count(stack: EmbeddedStack, tenant: str, model: Any = Bill) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def fail_on_call(function: Callable[..., Any], call: int) -> Callable[..., Any]:
    """Wrap ``function`` so that its ``call``-th call raises, as a crash between batches would."""
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == call:
            raise RuntimeError("crash on purpose")
        return function(*args, **kwargs)

    return wrapper


def test_large_flow_stores_every_bill_once(stack: EmbeddedStack, tenant: str) -> None:
    data = bulk_archive(LARGE_FLOW_BILLS, pdf_every=10)
    with held_outbox(stack):
        job_id = open_bulk_job(stack, tenant, data)
        parsing.parse_job(stack.rt, tenant, job_id)
        # Read before the block ends: then the held test batch goes out and moves the job on.
        job = load_job(stack, tenant, job_id)

    assert job.state == states.PARSED
    assert job.report["accepted"] == LARGE_FLOW_BILLS
    assert job.report["duplicates"] == []
    assert job.report["rejected"] == []
    with stack.rt.db.tenant_session(tenant) as session:
        numbers = session.scalars(select(Bill.document_number).where(Bill.job_id == job_id)).all()
        with_pdf = session.scalar(select(func.count()).where(Bill.job_id == job_id, Bill.pdf_key.is_not(None)))
    assert sorted(numbers) == [bulk_document_number(index) for index in range(LARGE_FLOW_BILLS)]
    assert with_pdf == LARGE_FLOW_BILLS // 10
    parsed = read_flow(data, "bulk.zip").bills
    assert bill_count(stack, tenant, Instalment) == sum(len(bill.instalments) for bill in parsed)
    assert bill_count(stack, tenant, CostLine) == sum(len(bill.costs) for bill in parsed)
    wait_idle(stack)


def test_rerun_after_crash_between_batches(
    stack: EmbeddedStack, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bills = 350
    monkeypatch.setattr(parsing, "BATCH_SIZE", 100)
    # The second batch fails after its rows are sent but before its commit.
    monkeypatch.setattr(parsing, "_store_contacts", fail_on_call(parsing._store_contacts, 2))
    with held_outbox(stack):
        job_id = open_bulk_job(stack, tenant, bulk_archive(bills))
        with pytest.raises(RuntimeError, match="on purpose"):
            parsing.parse_job(stack.rt, tenant, job_id)

        assert load_job(stack, tenant, job_id).state == states.PARSING
        assert bill_count(stack, tenant) == 100

        parsing.parse_job(stack.rt, tenant, job_id)
        job = load_job(stack, tenant, job_id)

    assert job.state == states.PARSED
    assert bill_count(stack, tenant) == bills
    assert job.report["accepted"] == bills
    assert job.report["duplicates"] == []
    wait_idle(stack)


def test_same_bill_twice_in_one_flow(stack: EmbeddedStack, tenant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "BATCH_SIZE", 2)
    data = bulk_archive(3)
    # The same file under a second name puts bill 0 in a later batch than its first copy.
    buffer = io.BytesIO(data)

    with zipfile.ZipFile(buffer, "a") as archive:
        first = archive.read("fatture/IT07182930151_0000000.xml")
        archive.writestr("fatture/zz_copy.xml", first)
    with held_outbox(stack):
        job_id = open_bulk_job(stack, tenant, buffer.getvalue())
        parsing.parse_job(stack.rt, tenant, job_id)

    job = load_job(stack, tenant, job_id)
    assert job.report["accepted"] == 3
    assert bill_count(stack, tenant) == 3
    assert [item["file"] for item in job.report["duplicates"]] == ["fatture/zz_copy.xml"]
    wait_idle(stack)


def test_each_bill_gets_its_own_pdf(stack: EmbeddedStack, tenant: str) -> None:
    data = bulk_archive(60, pdf_every=3)
    with held_outbox(stack):
        job_id = open_bulk_job(stack, tenant, data)
        parsing.parse_job(stack.rt, tenant, job_id)
    wait_idle(stack)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        expected = {name.removeprefix("pdf/").removesuffix(".pdf"): archive.read(name)
                    for name in archive.namelist() if name.endswith(".pdf")}
    with stack.rt.db.tenant_session(tenant) as session:
        stored = session.execute(
            select(Bill.document_number, Bill.public_id, Bill.pdf_key).where(Bill.pdf_key.is_not(None))
        ).all()
    assert len(stored) == 20
    for number, public_id, pdf_key in stored:
        assert pdf_key is not None
        assert f"/bills/{public_id}/" in pdf_key
        assert stack.rt.storage.get(pdf_key) == expected[number.replace("/", "_")]
