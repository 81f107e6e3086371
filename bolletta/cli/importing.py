"""``bolletta job import``: open a job for a local archive and follow it until parsed."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from bolletta.platform import runtime, workers
from bolletta.platform.db import migrate
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.jobs import states
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings

POLL_SECONDS = 0.2
TIMEOUT_SECONDS = 3600.0
STEPS = (states.RECEIVED, states.PARSING, states.PARSED, states.TEST_SENT)


def import_archive(tenant: str, archive: Path) -> None:
    """Open the job; with the embedded broker also run the worker here until the test batch is out."""
    settings = load_settings()
    rt = runtime.configure(settings)
    broker = workers.setup_broker(settings)
    workers.load_actors()
    migrate.upgrade_tenant(rt.db, tenant)
    worker = workers.start_worker(broker) if not settings.broker_url else None
    console = Console()
    opened = open_job(rt, tenant, archive.read_bytes(), archive.name, source="cli", opened_by="cli")
    if not opened.created:
        console.print(f"This archive was already imported as job #{opened.job_id}.")
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"job #{opened.job_id}", total=len(STEPS))
        deadline = time.monotonic() + TIMEOUT_SECONDS
        state = ""
        while time.monotonic() < deadline:
            with rt.db.tenant_session(tenant) as session:
                job = session.scalar(select(Job).where(Job.id == opened.job_id))
            state = job.state if job else ""
            bar.update(task, completed=STEPS.index(state) + 1 if state in STEPS else 0,
                       description=f"job #{opened.job_id}: {state}")
            if state in (states.TEST_SENT, states.FAILED) or state not in STEPS or worker is None:
                break
            time.sleep(POLL_SECONDS)
    if worker is not None:
        workers.wait_idle(broker)
        worker.stop()
    with rt.db.tenant_session(tenant) as session:
        job = session.get_one(Job, opened.job_id)
    console.print(f"Job #{job.id}: {job.state}, {job.bills_accepted} bills accepted, "
                  f"{job.bills_rejected} rejected.")


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
