"""One running stack for the folder, a fresh tenant per test, and a spy on the sandbox gateway's data removal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bolletta.gateways.base import PaymentAttempt
from bolletta.gateways.sandbox import SandboxGateway
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    WITHOUT_SMTP,
    StaffLogin,
    create_staff,
    create_test_tenant,
    new_slug,
    running_stack,
)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


@pytest.fixture
def tenant(stack: EmbeddedStack) -> str:
    return create_test_tenant(stack, new_slug("privacy"), **WITHOUT_SMTP)


@pytest.fixture
def admin(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.admin", "tenant_admin", tenant)


@pytest.fixture
def scrubbed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Order ids the sandbox gateway was asked to remove data for, in call order."""
    calls: list[str] = []

    def record(self: SandboxGateway, attempt: PaymentAttempt) -> None:
        calls.append(attempt.order_id)

    monkeypatch.setattr(SandboxGateway, "scrub_personal_data", record)
    return calls
