"""Opening jobs: one job per archive, the archive kept with its SHA-256."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
import zipfile
from pathlib import Path

from sqlalchemy import func, select

from bolletta.platform.db.models.tenant import Job
from bolletta.platform.demo.flow import DemoFlow
from bolletta.platform.jobs import approval, states
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, create_staff, load_job, wait_idle


def test_same_archive_twice_opens_one_job(stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow) -> None:
    first = open_job(stack.rt, tenant, demo_flow.archive, demo_flow.filename, source="sftp",
                     opened_by=f"sftp:{tenant}")
    wait_idle(stack)
    second = open_job(stack.rt, tenant, demo_flow.archive, "renamed.zip", source="api", opened_by="api:test")
    wait_idle(stack)

    assert first.created is True
    assert second.created is False
    assert second.job_id == first.job_id
    with stack.rt.db.tenant_session(tenant) as session:
        assert session.scalar(select(func.count(Job.id))) == 1


def test_archive_stored_with_sha256(stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow) -> None:
    opened = open_job(stack.rt, tenant, demo_flow.archive, demo_flow.filename, source="api", opened_by="api:test")
    wait_idle(stack)

    job = load_job(stack, tenant, opened.job_id)
    digest = hashlib.sha256(demo_flow.archive).hexdigest()
    assert job.archive_sha256 == digest
    assert digest in job.archive_key
    assert job.archive_size == len(demo_flow.archive)
    assert job.filename == demo_flow.filename
    assert stack.rt.storage.get(job.archive_key) == demo_flow.archive


def test_archive_opened_from_a_file_in_chunks(
    stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow, tmp_path: Path
) -> None:
    # The demo flow plus 30 MB of stored noise: held whole, the archive alone would pass the limit.
    path = tmp_path / "flusso.zip"
    with zipfile.ZipFile(io.BytesIO(demo_flow.archive)) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("extra/rumore.bin", os.urandom(30 * 1024 * 1024))

    tracemalloc.start()
    try:
        opened = open_job(stack.rt, tenant, path, path.name, source="cli", opened_by="cli")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    wait_idle(stack)

    assert peak < 16 * 1024 * 1024, f"opening the job took {peak} bytes"
    job = load_job(stack, tenant, opened.job_id)
    assert job.archive_size == path.stat().st_size
    assert job.archive_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert stack.rt.storage.get(job.archive_key) == path.read_bytes()


def test_archive_name_loses_its_folders(stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow) -> None:
    opened = open_job(stack.rt, tenant, demo_flow.archive, "..\\..\\uploads/../flow.zip", source="api",
                      opened_by="api:test")
    wait_idle(stack)

    job = load_job(stack, tenant, opened.job_id)
    assert job.filename == "flow.zip"
    assert job.state == states.TEST_SENT


def test_rejected_job_cancelled_after_reopening(
    stack: EmbeddedStack, tenant: str, tested_job: int, operator: StaffLogin, demo_flow: DemoFlow
) -> None:
    admin = create_staff(stack, f"{tenant}.admin", "platform_admin", None)

    approval.reject(stack.rt, tenant, tested_job, operator.staff, "Importi errati")
    reopened = open_job(stack.rt, tenant, demo_flow.archive, demo_flow.filename, source="api", opened_by="api:test")
    wait_idle(stack)
    approval.cancel(stack.rt, tenant, tested_job, admin.staff, "Sostituita")
    repeated = open_job(stack.rt, tenant, demo_flow.archive, demo_flow.filename, source="api", opened_by="api:test")

    assert reopened.created is True
    assert load_job(stack, tenant, tested_job).state == states.CANCELLED
    assert load_job(stack, tenant, tested_job).released_at is not None
    assert load_job(stack, tenant, reopened.job_id).state == states.TEST_SENT
    assert (repeated.job_id, repeated.created) == (reopened.job_id, False)
