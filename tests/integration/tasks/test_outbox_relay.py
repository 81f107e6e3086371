"""The task outbox: rows left unsent (a broker outage, a crash) are relayed later, once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import Job, OutboxTask
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    create_test_tenant,
    mails_to,
    new_slug,
    open_demo_job,
    running_stack,
    wait_idle,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


def test_unsent_row_is_relayed_once(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("relay"))
    job_id = open_demo_job(stack, tenant).job_id
    wait_idle(stack)
    with stack.rt.db.tenant_session(tenant) as session:
        # A row written by a transaction whose relay never ran, as after a broker outage.
        session.add(OutboxTask(actor="notify_job", args=[tenant, job_id, "parsed"], created_at=clock.now()))
        session.commit()
    pending_before = _pending(stack, tenant)

    first = tasks.relay_all(stack.rt.db)
    second = tasks.relay_all(stack.rt.db)
    wait_idle(stack)

    assert pending_before == 1
    assert first == 1
    assert second == 0
    assert _pending(stack, tenant) == 0


def test_rolled_back_defer_leaves_nothing(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("rollback"))
    with stack.rt.db.tenant_session(tenant) as session:
        tasks.defer(session, "parse_job", tenant, 999)
        session.rollback()
    with stack.rt.db.tenant_session(tenant) as session:
        rows = session.scalars(select(OutboxTask)).all()
        jobs = session.scalars(select(Job)).all()

    assert rows == []
    assert jobs == []


def _pending(stack: EmbeddedStack, tenant: str) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return len(session.scalars(select(OutboxTask).where(OutboxTask.sent_at.is_(None))).all())


def test_finished_rows_are_stamped_done(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("done"))
    open_demo_job(stack, tenant)
    wait_idle(stack)

    with stack.rt.db.tenant_session(tenant) as session:
        rows = session.scalars(select(OutboxTask)).all()

    assert {row.actor for row in rows} >= {"parse_job", "send_test_batch", "notify_job"}
    assert all(row.done_at is not None for row in rows)


def test_lost_in_memory_work_is_sent_again(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("lost"))
    job_id = open_demo_job(stack, tenant).job_id
    wait_idle(stack)
    with stack.rt.db.tenant_session(tenant) as session:
        # Taken by the in-memory broker of a process that then crashed: sent, never done.
        session.add(OutboxTask(actor="notify_job", args=[tenant, job_id, "parsed"], created_at=clock.now(),
                               sent_at=clock.now()))
        session.commit()

    requeued = tasks.requeue_unfinished(stack.rt.db)
    sent = tasks.relay_all(stack.rt.db)
    wait_idle(stack)

    assert requeued == 1
    assert sent == 1
    with stack.rt.db.tenant_session(tenant) as session:
        unfinished = session.scalars(select(OutboxTask).where(OutboxTask.done_at.is_(None))).all()
    assert unfinished == []


def test_redelivered_notice_is_mailed_once(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("once"))
    job_id = open_demo_job(stack, tenant).job_id
    wait_idle(stack)
    before = len(mails_to(stack, f"staff@{tenant}.example"))
    with stack.rt.db.tenant_session(tenant) as session:
        row = OutboxTask(actor="notify_job", args=[tenant, job_id, "parsed"], created_at=clock.now())
        session.add(row)
        session.commit()
        row_id = row.id

    tasks.relay_all(stack.rt.db)
    wait_idle(stack)
    with stack.rt.db.tenant_session(tenant) as session:
        # The broker delivers the same message again, as after a worker crash before its ack.
        session.execute(update(OutboxTask).where(OutboxTask.id == row_id).values(sent_at=None, done_at=None))
        session.commit()
    tasks.relay_all(stack.rt.db)
    wait_idle(stack)

    assert len(mails_to(stack, f"staff@{tenant}.example")) == before + 1
