"""The main job on PostgreSQL with its archive read in a second process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bolletta.platform.db.models.tenant import Bill, Job
from bolletta.platform.demo.run import DemoResult, run_demo
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.jobs import parsing, states
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def archives_read() -> list[str]:
    """Names of the archives the parser read in a second process while the demo ran."""
    return []


@pytest.fixture(scope="module")
def demo(
    own_database_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory, archives_read: list[str]
) -> Iterator[DemoResult]:
    # A database of its own, because in the run's shared one an earlier demo module's job already has
    # the demo archive. The upload would then reopen that job and nothing would be read here.
    def in_second_process(rt: Runtime, archive: Path) -> bool:  # whatever the load
        archives_read.append(archive.name)
        return True

    reads_in_process = parsing._reads_in_process
    parsing._reads_in_process = in_second_process  # type: ignore[assignment]
    settings = load_settings(
        environ={}, data_dir=str(tmp_path_factory.mktemp("demo-reader")), database_url=own_database_url,
        broker_url=broker_url, http_port=0, sftp_port=0, tenant_path_prefix=True, cookie_secure=False,
    )
    try:
        result = run_demo(settings, smtp_port=0)
        yield result
        result.stack.stop()
    finally:
        parsing._reads_in_process = reads_in_process  # type: ignore[method-assign]


def test_job_read_in_second_process_dispatched(demo: DemoResult, archives_read: list[str]) -> None:
    with demo.stack.rt.db.tenant_session(DEMO_SLUG) as session:
        job = session.get_one(Job, demo.job_id)
        stored = session.scalar(select(func.count()).select_from(Bill).where(Bill.job_id == demo.job_id))

    assert archives_read == [demo.flow.filename], "the demo job was not parsed by this module's stack"
    assert job.state == states.DISPATCHED
    assert "archive_error" not in job.report
    assert job.report["accepted"] == stored
    assert stored == len(demo.flow.document_numbers)
