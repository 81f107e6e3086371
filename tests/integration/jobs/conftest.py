"""Fixtures of the job lifecycle tests: one running stack for the folder, one fresh tenant per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bolletta.platform.demo.flow import DemoFlow, build_demo_flow
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    WITHOUT_SMTP,
    StaffLogin,
    create_staff,
    create_test_tenant,
    new_slug,
    run_to_test_sent,
    running_stack,
)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


@pytest.fixture(scope="session")
def demo_flow() -> DemoFlow:
    return build_demo_flow()


@pytest.fixture
def tenant(stack: EmbeddedStack) -> str:
    """A new tenant whose operators may start dispatches, with every message kept in the outbox."""
    return create_test_tenant(stack, new_slug("job"), **WITHOUT_SMTP)


@pytest.fixture
def mail_tenant(stack: EmbeddedStack) -> str:
    """A new tenant whose staff get job e-mails and whose customers get e-mail over SMTP."""
    return create_test_tenant(stack, new_slug("job"))


@pytest.fixture
def operator(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.operatore", "tenant_operator", tenant)


@pytest.fixture
def tested_job(stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow) -> int:
    """The id of a demo job whose test batch went out (state ``test_sent``)."""
    return run_to_test_sent(stack, tenant, demo_flow)
