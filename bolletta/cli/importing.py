"""``bolletta job import``: open a job for a local archive and follow it until parsed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from bolletta.cli.queue_wait import wait_for_queue
from bolletta.platform import runtime, tasks, workers
from bolletta.platform.db import migrate
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.i18n.message import render
from bolletta.platform.jobs import states
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings
from bolletta.tenants.registry import get_tenant

POLL_SECONDS = 0.2
TIMEOUT_SECONDS = 3600.0
STEPS = (states.RECEIVED, states.PARSING, states.PARSED, states.TEST_SENT)


def import_archive(tenant: str, archive: Path) -> int:
    """Open the job and follow it; with the in-memory broker also run the worker here.

    Returns the exit code: 0 when the job got past parsing, 1 when it failed.

    Raises:
        NotFound: no tenant has the slug ``tenant``.
    """
    settings = load_settings()
    rt = runtime.configure(settings)
    get_tenant(rt.db, tenant)
    broker = workers.setup_broker(settings)
    workers.load_actors()
    migrate.upgrade_tenant(rt.db, tenant)
    processing = tasks.start_processing(rt.db, broker) if not settings.broker_url else None
    console = Console()
    opened = open_job(rt, tenant, archive.read_bytes(), archive.name, source="cli", opened_by="cli")
    if not opened.created:
        console.print(f"This archive was already imported as job #{opened.job_id}.")
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"job #{opened.job_id}", total=len(STEPS))
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            with rt.db.tenant_session(tenant) as session:
                state = session.scalar(select(Job.state).where(Job.id == opened.job_id)) or ""
            bar.update(task, completed=STEPS.index(state) + 1 if state in STEPS else 0,
                       description=f"job #{opened.job_id}: {state}")
            if state in (states.TEST_SENT, states.FAILED) or state not in STEPS or processing is None:
                break
            time.sleep(POLL_SECONDS)
    if processing is not None:
        try:
            wait_for_queue(rt, broker)
        finally:
            processing.stop()
    with rt.db.tenant_session(tenant) as session:
        job = session.get_one(Job, opened.job_id)
    console.print(f"Job #{job.id}: {job.state}, {job.bills_accepted} bills accepted, "
                  f"{job.bills_rejected} rejected.")
    _print_report(console, job.report or {})
    return 1 if job.state == states.FAILED else 0


def _print_report(console: Console, report: dict[str, Any]) -> None:
    if report.get("archive_error"):
        console.print(f"Archive rejected: {render(report['archive_error'], 'en')}")
    for item in report.get("rejected", []):
        where = " ".join(str(part) for part in (item.get("record"), item.get("field")) if part)
        console.print(f"Rejected {item.get('file', '')} {where}: {render(item.get('reason', ''), 'en')}")
    for item in report.get("duplicates", []):
        console.print(f"Duplicate {item.get('document_number')} ({item.get('file')}): already in job "
                      f"#{item.get('job_id')}")
    for item in report.get("ignored", []):
        console.print(f"Ignored {item.get('file', '')}: {render(item.get('reason', ''), 'en')}")


def wait_for_job_state(rt: Runtime, tenant: str, job_id: int, wanted: set[str]) -> str:
    """Poll job ``job_id`` until its state is in ``wanted`` (or the timeout passes); return the state."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    state = ""
    while time.monotonic() < deadline:
        with rt.db.tenant_session(tenant) as session:
            state = session.scalar(select(Job.state).where(Job.id == job_id)) or ""
        if state in wanted:
            break
        time.sleep(POLL_SECONDS)
    return state
