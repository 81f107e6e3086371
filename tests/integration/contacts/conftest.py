"""Fixtures of the contacts directory tests: one running stack for the folder, one fresh tenant per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    StaffLogin,
    create_staff,
    create_test_tenant,
    new_slug,
    running_stack,
)

OUTBOX_CHANNELS = {"email": "outbox", "sms": "outbox", "whatsapp": "outbox"}


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


@pytest.fixture
def tenant(stack: EmbeddedStack) -> str:
    """A new tenant whose staff get e-mails, with customer messages kept in the outbox."""
    return create_test_tenant(stack, new_slug("rubrica"), channel_plugins=OUTBOX_CHANNELS, test_batch_size=1)


@pytest.fixture
def operator(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.operatore", "tenant_operator", tenant)


@pytest.fixture
def viewer(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.revisore", "tenant_viewer", tenant)
