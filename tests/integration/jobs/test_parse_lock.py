"""A delivery of ``parse_job`` that finds another parser at work leaves the job to it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.demo.flow import DemoFlow
from bolletta.platform.jobs import parsing, states
from bolletta.platform.jobs.parse_lock import LOCK_FOLDER, parse_lock
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import create_test_tenant, held_outbox, load_job, new_slug, open_demo_job

HOLDER = """
import sys
from bolletta.platform.db.database import Database
from bolletta.platform.jobs.parse_lock import LOCK_FOLDER, parse_lock
from bolletta.platform.settings import load_settings

data_dir, tenant, job_id = sys.argv[1:]
db = Database(load_settings(environ={}, data_dir=data_dir, database_url="", secret_key="h" * 48))
with parse_lock(db, tenant, int(job_id)) as held:
    print("held" if held else "busy", flush=True)
    sys.stdin.readline()
"""
"""A second process: takes the parse lock, prints whether it got it, keeps it until a line on stdin."""


@contextmanager
def _other_process(stack: EmbeddedStack, tenant: str, job_id: int) -> Iterator[subprocess.Popen[str]]:
    if not stack.rt.db.is_sqlite:
        pytest.skip("the lock file is the SQLite lock; PostgreSQL's is tested in tests/services")
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(stack.rt.settings.data_path), tenant, str(job_id)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        yield process
    finally:
        process.kill()
        process.wait(timeout=30)


def _first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


def _release(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.flush()
    assert process.wait(timeout=30) == 0


@pytest.fixture
def tenant(stack: EmbeddedStack) -> str:
    return create_test_tenant(stack, new_slug("lock"), notification_emails=[], test_batch_size=1)


def _bills(stack: EmbeddedStack, tenant: str, job_id: int) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return session.scalar(select(func.count()).select_from(Bill).where(Bill.job_id == job_id)) or 0


def test_delivery_during_parse_leaves_job(stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow) -> None:
    with held_outbox(stack):
        job_id = open_demo_job(stack, tenant, flow=demo_flow).job_id
        with parse_lock(stack.rt.db, tenant, job_id) as held:
            parsing.parse_job(stack.rt, tenant, job_id)
            untouched = load_job(stack, tenant, job_id)
            stored_meanwhile = _bills(stack, tenant, job_id)
        parsing.parse_job(stack.rt, tenant, job_id)
        parsed = load_job(stack, tenant, job_id)

    assert held
    assert untouched.state == states.RECEIVED
    assert stored_meanwhile == 0
    assert parsed.state == states.PARSED
    assert parsed.report["accepted"] == len(demo_flow.document_numbers)


def test_lock_free_again_after_failed_parse(
    stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("on purpose")

    with held_outbox(stack):
        job_id = open_demo_job(stack, tenant, flow=demo_flow).job_id
        with monkeypatch.context() as patch:
            patch.setattr(parsing, "_store_flow", broken)
            with pytest.raises(RuntimeError, match="on purpose"):
                parsing.parse_job(stack.rt, tenant, job_id)
        with parse_lock(stack.rt.db, tenant, job_id) as free:
            pass

    assert free


def test_other_process_holding_lock_keeps_parser_out(
    stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow
) -> None:
    with held_outbox(stack):
        job_id = open_demo_job(stack, tenant, flow=demo_flow).job_id
        with _other_process(stack, tenant, job_id) as holder:
            holder_line = _first_line(holder)
            with parse_lock(stack.rt.db, tenant, job_id) as held_here:
                pass
            parsing.parse_job(stack.rt, tenant, job_id)
            untouched = load_job(stack, tenant, job_id)
            _release(holder)
        with parse_lock(stack.rt.db, tenant, job_id) as free_after:
            pass
        parsing.parse_job(stack.rt, tenant, job_id)

    assert holder_line == "held"
    assert not held_here
    assert untouched.state == states.RECEIVED
    assert _bills(stack, tenant, job_id) == len(demo_flow.document_numbers)
    assert free_after
    assert load_job(stack, tenant, job_id).state != states.RECEIVED


def test_other_process_sees_lock_held_here(stack: EmbeddedStack, tenant: str) -> None:
    with parse_lock(stack.rt.db, tenant, 4242) as held_here, _other_process(stack, tenant, 4242) as other:
        other_line = _first_line(other)
    with _other_process(stack, tenant, 4243) as other_job:
        other_job_line = _first_line(other_job)

    assert held_here
    assert other_line == "busy"
    assert other_job_line == "held"


def test_killed_holder_frees_lock(stack: EmbeddedStack, tenant: str) -> None:
    with _other_process(stack, tenant, 4244) as holder:
        holder_line = _first_line(holder)
        holder.kill()
        holder.wait(timeout=30)
        with parse_lock(stack.rt.db, tenant, 4244) as held_after_kill:
            pass

    assert holder_line == "held"
    assert held_after_kill


def test_lock_file_removed_after_release(stack: EmbeddedStack, tenant: str) -> None:
    folder = Path(stack.rt.settings.data_path) / LOCK_FOLDER
    with parse_lock(stack.rt.db, tenant, 4245) as held:
        during = sorted(path.name for path in folder.glob(f"{tenant}.*"))

    assert held
    assert during == [f"{tenant}.4245.lock"]
    assert not list(folder.glob(f"{tenant}.*"))
