"""A queued task of a tenant that does not exist is skipped, not retried until its retries run out."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import dramatiq
import pytest

from bolletta.platform import workers
from bolletta.platform.tenant_gate import TenantGate
from tests.integration.stack_support import EmbeddedStack, broker_of, create_test_tenant, new_slug, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("gate")) as running:
        yield running


def test_gate_is_installed(stack: EmbeddedStack) -> None:
    assert any(isinstance(middleware, TenantGate) for middleware in broker_of(stack).middleware)


def test_task_of_missing_tenant_is_skipped(stack: EmbeddedStack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bolletta.platform.tenant_gate")
    broker = broker_of(stack)

    dramatiq.get_broker().get_actor("send_messages").send("gone-utility", [1])
    workers.wait_idle(broker, timeout_ms=20_000)

    skipped = [record.getMessage() for record in caplog.records
               if record.name == "bolletta.platform.tenant_gate" and "gone-utility" in record.getMessage()]
    assert skipped == ["task send_messages skipped: tenant gone-utility does not exist "
                       "(off-boarded or from another runtime)"]
    assert not any(broker.dead_letters_by_queue.values()), "the skipped task was dead-lettered"


def test_task_of_existing_tenant_runs(stack: EmbeddedStack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bolletta.platform.tenant_gate")
    tenant = create_test_tenant(stack, new_slug("gate"))

    dramatiq.get_broker().get_actor("send_messages").send(tenant, [])
    workers.wait_idle(broker_of(stack), timeout_ms=20_000)

    assert not [record for record in caplog.records if tenant in record.getMessage()]
