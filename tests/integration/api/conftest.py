"""Fixtures of the API tests: one running stack for the folder, one fresh tenant per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import WITHOUT_SMTP, create_test_tenant, new_slug, running_stack


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


@pytest.fixture
def tenant(stack: EmbeddedStack) -> str:
    return create_test_tenant(stack, new_slug("api"), **WITHOUT_SMTP)
