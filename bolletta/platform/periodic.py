"""The scheduler's round: every periodic task, each deciding for itself whether it is due."""

from __future__ import annotations

from bolletta.platform.jobs.scheduled_start import start_due_dispatches
from bolletta.platform.payments.schedule import defer_due_reconciliations
from bolletta.platform.privacy.schedule import defer_due_purges
from bolletta.platform.runtime import Runtime
from bolletta.platform.schedule import ScheduleLoop
from bolletta.platform.sftp.poll_schedule import defer_due_polls
from bolletta.platform.webhooks.delivery import defer_due_retries


def run_due_tasks(rt: Runtime) -> None:
    """Queue every periodic task that is due now."""
    defer_due_polls(rt)
    defer_due_retries(rt)
    defer_due_reconciliations(rt)
    defer_due_purges(rt)
    start_due_dispatches(rt)


def schedule_loop(rt: Runtime) -> ScheduleLoop:
    """Return a loop that runs :func:`run_due_tasks` every ``scheduler_interval_seconds``."""
    return ScheduleLoop(lambda: run_due_tasks(rt), interval=rt.settings.scheduler_interval_seconds)
