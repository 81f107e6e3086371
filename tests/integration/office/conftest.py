"""Fixtures of the backoffice tests: one running stack for the folder, one fresh tenant per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
    return create_test_tenant(stack, new_slug("office"), **WITHOUT_SMTP)


@pytest.fixture
def operator(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.operatore", "tenant_operator", tenant)


@pytest.fixture
def viewer(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.revisore", "tenant_viewer", tenant)
