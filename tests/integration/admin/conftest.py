"""Fixtures of the operator console tests: one running stack for the folder, fresh tenants and admins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bolletta.platform.stack import EmbeddedStack
from tests.integration.admin.console_support import AdminLogin, enrol
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
    return create_test_tenant(stack, new_slug("console"), **WITHOUT_SMTP)


@pytest.fixture
def new_admin(stack: EmbeddedStack) -> StaffLogin:
    """A platform admin who has never signed in."""
    return create_staff(stack, f"{new_slug('operatore')}.piattaforma", "platform_admin", None)


@pytest.fixture
def admin(stack: EmbeddedStack, new_admin: StaffLogin) -> AdminLogin:
    """A platform admin enrolled in TOTP."""
    return enrol(stack, new_admin)


@pytest.fixture
def tenant_staff(stack: EmbeddedStack, tenant: str) -> dict[str, StaffLogin]:
    """One signed-up member of the tenant's staff per tenant role."""
    return {role: create_staff(stack, f"{tenant}.{role}", role, tenant)
            for role in ("tenant_admin", "tenant_operator", "tenant_viewer")}
