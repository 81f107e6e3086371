"""``bolletta job import`` and ``job wait``: open a job for a local archive and follow it until parsed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, NamedTuple

import click
from dramatiq.brokers.stub import StubBroker
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from bolletta.cli.queue_wait import wait_for_queue
from bolletta.platform import runtime, tasks, workers
from bolletta.platform.db import migrate
from bolletta.platform.db.models.tenant import Job, JobTransition
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.i18n.message import render
from bolletta.platform.jobs import states
from bolletta.platform.jobs.notes import render_note
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.jobs.own_work import JobWork
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings
from bolletta.tenants.registry import get_tenant

POLL_SECONDS = 0.2
TIMEOUT_SECONDS = 3600.0
WORKER_TIMEOUT_SECONDS = 300.0
"""Default of ``--timeout``: how long the command waits for a separate worker to parse the job."""
STEPS = (states.RECEIVED, states.PARSING, states.PARSED, states.TEST_SENT)
WAITING_FOR_WORKER = (states.RECEIVED, states.PARSING)
TIMED_OUT = 3
"""Exit code when the job is still waiting for the worker or being parsed at the timeout."""


def import_archive(tenant: str, archive: Path, *, wait: bool = True,
                   timeout: float = WORKER_TIMEOUT_SECONDS) -> int:
    """Open the job and follow it; with the in-memory broker also run the job's own work here.

    With a broker (``BOLLETTA_BROKER_URL``) a separate ``bolletta worker`` parses the job. The
    command then polls the job in the database until it leaves ``received`` and ``parsing``, for at
    most ``timeout`` seconds, or returns at once when ``wait`` is false.

    Returns the exit code: 0 when the job got past parsing (or was only queued, without ``wait``), 1
    when it failed, :data:`TIMED_OUT` when the worker had not finished parsing it in time.

    Raises:
        NotFound: no tenant has the slug ``tenant``.
        ConfigurationError: ``wait`` is false without a broker, where this command is the worker.
    """
    settings = load_settings()
    if not wait and not settings.broker_url:
        raise ConfigurationError("--no-wait needs a broker (BOLLETTA_BROKER_URL): without one this command parses "
                                 "the job itself. Run it without --no-wait.")
    rt = runtime.configure(settings)
    get_tenant(rt.db, tenant)
    broker = workers.setup_broker(settings)
    workers.load_actors()
    migrate.upgrade_tenant(rt.db, tenant)
    console = Console()
    if settings.broker_url or not isinstance(broker, StubBroker):
        opened = open_job(rt, tenant, archive, archive.name, source="cli", opened_by="cli")
        if not opened.created:
            console.print(f"This archive was already imported as job #{opened.job_id}.")
        if not wait:
            console.print(f"Job #{opened.job_id} received; a worker parses it. Follow it with: "
                          f"bolletta job wait {tenant} {opened.job_id}")
            return 0
        return follow_worker(rt, tenant, opened.job_id, timeout, console)

    # Nothing is relayed until the job exists, so the command never sends another job's queued work.
    tasks.relay_only(JobWork(tenant, None))
    try:
        opened = open_job(rt, tenant, archive, archive.name, source="cli", opened_by="cli")
        if not opened.created:
            console.print(f"This archive was already imported as job #{opened.job_id}.")
        return _run_here(rt, broker, tenant, opened.job_id, console)
    finally:
        tasks.relay_only(None)


def _run_here(rt: Runtime, broker: StubBroker, tenant: str, job_id: int, console: Console) -> int:
    """Run only job ``job_id``'s own work in a worker of this process, follow it and print the outcome.

    The demo or ``bolletta serve`` may run on the same data folder with work of their own queued. The
    worker therefore gets only the rows :class:`JobWork` matches: this job's parsing, test batch,
    staff e-mails and read-aloud audio.
    """
    work = JobWork(tenant, job_id)
    tasks.relay_only(work)
    tasks.requeue_unfinished(rt.db)
    worker = workers.start_worker(broker)
    try:
        tasks.relay(rt.db, tenant)
        state = _follow_here(rt, tenant, job_id, console)
        if state in STEPS and state != states.TEST_SENT:
            console.print(f"Waiting for job #{job_id} timed out after {TIMEOUT_SECONDS:g} s: it is still {state}. "
                          "The job goes on when a Bolletta Smart process (such as the demo or `bolletta serve`) "
                          "next starts on this data folder.")
            return TIMED_OUT
        code = _print_outcome(rt, tenant, job_id, console)
        try:
            wait_for_queue(rt, broker, work=work)
        except click.ClickException as exc:
            if state == states.FAILED:
                raise click.ClickException(f"Job #{job_id} failed: see its report above. {exc.message}") from exc
            raise
        return code
    finally:
        worker.stop()
        workers.discard_memory_queues(broker)


def _follow_here(rt: Runtime, tenant: str, job_id: int, console: Console) -> str:
    """Show the job's progress until its test batch went out or it failed; return its last state."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"job #{job_id}", total=len(STEPS))
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            job = _job_progress(rt, tenant, job_id)
            _show(bar, task, job_id, job)
            if job.state in (states.TEST_SENT, states.FAILED) or job.state not in STEPS:
                return job.state
            if time.monotonic() >= deadline:
                return job.state
            time.sleep(POLL_SECONDS)


def follow_worker(rt: Runtime, tenant: str, job_id: int, timeout: float, console: Console) -> int:
    """Poll job ``job_id`` while a separate worker parses it, with a progress bar, and print the outcome.

    Returns the exit code of :func:`import_archive`. After ``timeout`` seconds it prints that the job
    goes on in the worker and how to follow it, and returns :data:`TIMED_OUT`.
    """
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"job #{job_id}", total=len(STEPS))
        deadline = time.monotonic() + timeout
        job = _job_progress(rt, tenant, job_id)
        _show(bar, task, job_id, job)
        while job.state in WAITING_FOR_WORKER and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            job = _job_progress(rt, tenant, job_id)
            _show(bar, task, job_id, job)
    if job.state in WAITING_FOR_WORKER:
        console.print(f"Job #{job_id} is still {job.state} after {timeout:g} s; it goes on in the worker (check that "
                      f"`bolletta worker` runs). Follow it with: bolletta job wait {tenant} {job_id}")
        return TIMED_OUT
    return _print_outcome(rt, tenant, job_id, console)


class _JobProgress(NamedTuple):
    state: str
    bills_accepted: int


def _job_progress(rt: Runtime, tenant: str, job_id: int) -> _JobProgress:
    with rt.db.tenant_session(tenant) as session:
        row = session.execute(select(Job.state, Job.bills_accepted).where(Job.id == job_id)).first()
    return _JobProgress(row[0], row[1] or 0) if row is not None else _JobProgress("", 0)


def _show(bar: Progress, task: TaskID, job_id: int, job: _JobProgress) -> None:
    bar.update(task, completed=STEPS.index(job.state) + 1 if job.state in STEPS else 0,
               description=f"job #{job_id}: {job.state}, {job.bills_accepted} bills accepted")


def _print_outcome(rt: Runtime, tenant: str, job_id: int, console: Console) -> int:
    with rt.db.tenant_session(tenant) as session:
        job = session.get_one(Job, job_id)
        history = [_history_line(item) for item in job.transitions]
    console.print("History:")
    for line in history:
        # Notes hold file names and typed reasons, which Rich would read as markup.
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    _print_report(console, job.report or {})
    # The outcome comes last, where a reader or a script looks for it.
    console.print(f"Job #{job.id}: {job.state}, {job.bills_accepted} bills accepted, "
                  f"{job.bills_rejected} rejected.")
    return 1 if job.state == states.FAILED else 0


def _history_line(item: JobTransition) -> str:
    """Return one transition as ``job import`` and ``job wait`` print it, with the note in English."""
    line = f"  {item.at:%Y-%m-%d %H:%M:%S} {item.from_state or '-'} -> {item.to_state} ({item.actor})"
    return f"{line}: {render_note(item.note, 'en')}" if item.note else line


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
