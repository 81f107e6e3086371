"""The main job on PostgreSQL with its archive read in a second process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bolletta.platform.db.models.tenant import Bill, Job
from bolletta.platform.demo.run import DemoResult, run_demo
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.jobs import parsing, states
from bolletta.platform.settings import load_settings

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def demo(database_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    reads_in_process = parsing._reads_in_process
    parsing._reads_in_process = lambda rt, archive: True  # type: ignore[assignment]  # whatever the load
    settings = load_settings(
        environ={}, data_dir=str(tmp_path_factory.mktemp("demo-reader")), database_url=database_url,
        broker_url=broker_url, http_port=0, sftp_port=0, tenant_path_prefix=True, cookie_secure=False,
    )
    try:
        result = run_demo(settings, smtp_port=0)
        yield result
        result.stack.stop()
    finally:
        parsing._reads_in_process = reads_in_process  # type: ignore[method-assign]


def test_job_read_in_second_process_dispatched(demo: DemoResult) -> None:
    with demo.stack.rt.db.tenant_session(DEMO_SLUG) as session:
        job = session.get_one(Job, demo.job_id)
        stored = session.scalar(select(func.count()).select_from(Bill).where(Bill.job_id == demo.job_id))

    assert job.state == states.DISPATCHED
    assert "archive_error" not in job.report
    assert job.report["accepted"] == stored
    assert stored == len(demo.flow.document_numbers)
