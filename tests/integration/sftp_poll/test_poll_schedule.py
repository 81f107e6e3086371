"""The scheduler polls each tenant's remote SFTP server on the tenant's interval, and only then."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import select, update

from bolletta.platform.clock import use_clock
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.demo.flow import build_demo_flow
from bolletta.platform.sftp.poll_schedule import defer_due_polls
from bolletta.platform.stack import EmbeddedStack, start_stack
from tests.integration.sftp_poll.remote_server import RemoteServer, poll_settings, running_remote
from tests.integration.stack_support import create_test_tenant, new_slug, stack_settings, wait_idle

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    """A stack whose scheduler does not run, so each test decides when a round happens."""
    running = start_stack(stack_settings(tmp_path_factory.mktemp("data")), create_secret=True, run_scheduler=False)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[RemoteServer]:
    with running_remote(tmp_path) as server:
        yield server


def _put_flow(remote: RemoteServer, name: str, seed: int = 2026) -> None:
    flow = build_demo_flow(seed=seed)
    remote.put(name, flow.archive)
    remote.put(name + ".done", b"")


def _job_count(stack: EmbeddedStack, tenant: str) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return len(session.scalars(select(Job.id)).all())


def test_tenant_polled_once_per_interval(stack: EmbeddedStack, remote: RemoteServer) -> None:
    polled = create_test_tenant(stack, new_slug("sched"), sftp_poll=poll_settings(remote, interval_minutes=15))
    on_demand = create_test_tenant(stack, new_slug("sched"), sftp_poll=poll_settings(remote, interval_minutes=0))
    not_polling = create_test_tenant(stack, new_slug("sched"))
    _put_flow(remote, "flusso-1.zip")
    now = [START]

    with use_clock(lambda: now[0]):
        first = defer_due_polls(stack.rt)
        wait_idle(stack)
        assert polled in first
        assert on_demand not in first and not_polling not in first
        assert _job_count(stack, polled) == 1
        assert remote.names("processed") == ["flusso-1.zip", "flusso-1.zip.done"]

        _put_flow(remote, "flusso-2.zip", seed=2027)
        now[0] = START + timedelta(minutes=14)
        assert polled not in defer_due_polls(stack.rt)
        wait_idle(stack)
        assert _job_count(stack, polled) == 1

        now[0] = START + timedelta(minutes=15)
        assert polled in defer_due_polls(stack.rt)
        wait_idle(stack)
        assert _job_count(stack, polled) == 2
    assert _job_count(stack, on_demand) == 0


def test_suspended_tenant_is_not_polled(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = create_test_tenant(stack, new_slug("sched"), sftp_poll=poll_settings(remote, interval_minutes=15))
    with stack.rt.db.platform_session() as session:
        session.execute(update(Tenant).where(Tenant.slug == tenant).values(status="suspended"))
        session.commit()
    _put_flow(remote, "flusso.zip")

    assert tenant not in defer_due_polls(stack.rt)
    wait_idle(stack)
    assert remote.names() == ["flusso.zip", "flusso.zip.done"]


def test_unreachable_server_is_logged_and_left_for_the_next_round(
    stack: EmbeddedStack, remote: RemoteServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = poll_settings(remote, interval_minutes=15, password="password-sbagliata")
    tenant = create_test_tenant(stack, new_slug("sched"), sftp_poll=settings)
    _put_flow(remote, "flusso.zip")

    with caplog.at_level(logging.WARNING, logger="bolletta.platform.sftp.actors"):
        assert tenant in defer_due_polls(stack.rt)
        wait_idle(stack)

    assert f"sftp poll of tenant {tenant} failed: Login as 'bolletta-poller'" in caplog.text
    assert "password-sbagliata" not in caplog.text
    assert _job_count(stack, tenant) == 0
    assert remote.names() == ["flusso.zip", "flusso.zip.done"]


def test_embedded_stack_polls_by_itself(tmp_path: Path, remote: RemoteServer) -> None:
    settings = msgspec.structs.replace(stack_settings(tmp_path / "data"), scheduler_interval_seconds=0.2)
    running = start_stack(settings, create_secret=True)
    try:
        tenant = create_test_tenant(running, "selfpoll", sftp_poll=poll_settings(remote, interval_minutes=15))
        _put_flow(remote, "flusso.zip")
        deadline = time.monotonic() + 20
        while _job_count(running, tenant) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _job_count(running, tenant) == 1
        # The in-memory queue is shared by every stack of this process: let the job's work finish, or
        # a message taken by this stack's worker would stay unacknowledged for the next tests.
        wait_idle(running)
    finally:
        running.stop()
