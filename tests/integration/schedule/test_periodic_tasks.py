"""The scheduler's round queues each tenant's payment reconciliation once an hour, for active tenants only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bolletta.platform.clock import use_clock
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.db.models.tenant import OutboxTask
from bolletta.platform.payments.schedule import defer_due_reconciliations
from bolletta.platform.stack import EmbeddedStack, start_stack
from tests.integration.stack_support import create_test_tenant, new_slug, stack_settings, wait_idle


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    running = start_stack(stack_settings(tmp_path_factory.mktemp("data")), create_secret=True, run_scheduler=False)
    try:
        yield running
    finally:
        running.stop()


def _reconciliations(stack: EmbeddedStack, tenant: str) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return len(session.scalars(select(OutboxTask.id).where(OutboxTask.actor == "reconcile_payments")).all())


def test_reconciliation_queued_hourly(stack: EmbeddedStack) -> None:
    active = create_test_tenant(stack, new_slug("rec"))
    suspended = create_test_tenant(stack, new_slug("rec"))
    with stack.rt.db.platform_session() as session:
        session.execute(update(Tenant).where(Tenant.slug == suspended).values(status="suspended"))
        session.commit()
    now = [datetime(2026, 12, 4, 9, 0, tzinfo=UTC)]

    with use_clock(lambda: now[0]):
        first = defer_due_reconciliations(stack.rt)
        now[0] += timedelta(minutes=59)
        too_soon = defer_due_reconciliations(stack.rt)
        now[0] += timedelta(minutes=1)
        next_hour = defer_due_reconciliations(stack.rt)
    wait_idle(stack)

    assert active in first
    assert suspended not in first
    assert active not in too_soon
    assert active in next_hour
    assert _reconciliations(stack, active) == 2
    assert _reconciliations(stack, suspended) == 0
