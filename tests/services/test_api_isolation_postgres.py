"""Tenant isolation of the API on PostgreSQL, where tenants share one database with a schema each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bolletta.platform.app import create_litestar
from bolletta.platform.settings import load_settings
from bolletta.platform.stack import EmbeddedStack, start_stack
from tests.integration.api import isolation
from tests.integration.stack_support import WITHOUT_SMTP, create_test_tenant, new_slug, web_client

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    settings = load_settings(
        environ={}, data_dir=str(Path(tmp_path_factory.mktemp("api-pg"))), database_url=database_url, broker_url="",
        http_port=0, sftp_port=0, tenant_path_prefix=True, cookie_secure=False, operations_email="",
    )
    running = start_stack(settings, create_secret=True, run_scheduler=False)
    yield running
    running.stop()


def test_every_api_route_is_isolated(stack: EmbeddedStack) -> None:
    own = create_test_tenant(stack, new_slug("apipg"), **WITHOUT_SMTP)
    other = create_test_tenant(stack, new_slug("apipg"), **WITHOUT_SMTP)
    tenants = isolation.prepare(stack.rt.db, own, other)

    with web_client(stack) as client:
        checked = isolation.check_every_route(client, create_litestar(stack.rt), stack.rt.db, tenants)

    assert len(checked) == 9
