"""A job whose archive is read in a second process stores and reports what a job read in one process does."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import Bill, CostLine, Instalment
from bolletta.platform.demo.bulk_flow import write_bulk_flow
from bolletta.platform.jobs import parsing
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import WITHOUT_SMTP, create_test_tenant, held_outbox, load_job, new_slug, wait_idle

# Columns that differ between two runs of the same flow.
RUN_COLUMNS = {"id", "public_id", "job_id", "created_at", "pdf_key", "bill_id"}


def samples_and_bulk_archive(samples_dir: Path) -> bytes:
    """The FatturaPA samples (valid, invalid, malicious) and a bulk flow with PDFs, in one archive."""
    bulk = io.BytesIO()
    write_bulk_flow(bulk, 250, pdf_every=10, pdf_bytes=1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, zipfile.ZipFile(bulk) as source:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
        folder = samples_dir / "fatturapa"
        for sample in sorted(folder.rglob("*")):
            if sample.is_file():
                archive.write(sample, "samples/" + sample.relative_to(folder).as_posix())
    return buffer.getvalue()


def parse_in(stack: EmbeddedStack, tenant: str, data: bytes, *, second_process: bool,
             monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], list[Any]]:
    """Parse ``data`` as a new job of ``tenant``; return its report and its stored rows without run columns."""
    monkeypatch.setattr(parsing, "_reads_in_process", lambda rt, archive: second_process)
    with held_outbox(stack):
        job_id = open_job(stack.rt, tenant, data, "flow.zip", source="api", opened_by="api:test").job_id
        parsing.parse_job(stack.rt, tenant, job_id)
        report = load_job(stack, tenant, job_id).report
    wait_idle(stack)
    rows: list[Any] = []
    with stack.rt.db.tenant_session(tenant) as session:
        for model, order in ((Bill, Bill.id), (Instalment, Instalment.id), (CostLine, CostLine.id)):
            for row in session.execute(select(model.__table__).order_by(order)).mappings():
                rows.append({key: value for key, value in row.items() if key not in RUN_COLUMNS})
        pdfs = session.scalars(select(Bill.pdf_key).where(Bill.pdf_key.is_not(None))).all()
    rows.append(sorted(stack.rt.storage.get(key) for key in pdfs if key is not None))
    return report, rows


def without_ids(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the ids of the job and its bills, which differ between tenants."""
    review = [{key: value for key, value in entry.items() if key != "bill_id"} for entry in report.get("review", [])]
    return {**report, "review": review, "duplicates": [entry["file"] for entry in report["duplicates"]]}


def test_second_process_same_job(
    stack: EmbeddedStack, tenant: str, samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = samples_and_bulk_archive(samples_dir)
    other = create_test_tenant(stack, new_slug("job"), **WITHOUT_SMTP)

    serial_report, serial_rows = parse_in(stack, tenant, data, second_process=False, monkeypatch=monkeypatch)
    parallel_report, parallel_rows = parse_in(stack, other, data, second_process=True, monkeypatch=monkeypatch)

    assert serial_report["accepted"] > 250
    assert serial_report["rejected"] and serial_report["duplicates"]
    assert without_ids(parallel_report) == without_ids(serial_report)
    assert parallel_rows == serial_rows


def test_reads_in_process_threshold(
    stack: EmbeddedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "flow.zip"
    archive.write_bytes(b"x" * 100)
    cases = [
        # CPUs, load average, minimum size, read in a second process
        (2, 0.5, 100, True), (2, 0.5, 101, False), (2, 0.5, 0, True), (2, 0.5, -1, False),
        (2, 1.0, 0, True), (2, 1.5, 0, False), (4, 2.9, 0, True), (1, 0.0, 0, False), (None, 0.0, 0, False),
    ]
    for cpus, load, minimum, expected in cases:
        monkeypatch.setattr(parsing.os, "cpu_count", lambda cpus=cpus: cpus)
        monkeypatch.setattr(parsing.os, "getloadavg", lambda load=load: (load, load, load))
        settings = msgspec.structs.replace(stack.rt.settings, flow_reader_process_min_bytes=minimum)
        monkeypatch.setattr(stack.rt, "settings", settings)
        assert parsing._reads_in_process(stack.rt, archive) is expected, (cpus, load, minimum)
