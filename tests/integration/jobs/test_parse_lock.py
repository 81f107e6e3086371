"""A delivery of ``parse_job`` that finds another parser at work leaves the job to it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.demo.flow import DemoFlow
from bolletta.platform.jobs import parsing, states
from bolletta.platform.jobs.parse_lock import parse_lock
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import create_test_tenant, held_outbox, load_job, new_slug, open_demo_job


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
