"""Tenant isolation of the API on SQLite: a token of one tenant reaches nothing of another, on any route."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bolletta.platform.app import create_litestar
from bolletta.platform.stack import EmbeddedStack
from tests.integration.api import isolation
from tests.integration.stack_support import WITHOUT_SMTP, create_test_tenant, new_slug, web_client


@pytest.fixture
def client(stack: EmbeddedStack) -> Iterator[httpx.Client]:
    with web_client(stack) as http:
        yield http


def test_every_api_route_is_isolated(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    other = create_test_tenant(stack, new_slug("api"), **WITHOUT_SMTP)
    tenants = isolation.prepare(stack.rt.db, tenant, other)

    checked = isolation.check_every_route(client, create_litestar(stack.rt), stack.rt.db, tenants)

    assert "GET /api/v1/tickets/{ticket_id:int}" in checked
    assert "GET /api/v1/jobs/{job_id:int}/report" in checked
    assert len(checked) == 9


def test_route_enumeration_finds_new_routes(stack: EmbeddedStack) -> None:
    routes = isolation.api_routes(create_litestar(stack.rt))

    assert ("GET", "/api/v1/bills/{bill_id:int}") in routes
    assert ("POST", "/api/v1/contacts") in routes
    assert not any(path.startswith("/api/v1/schema") for _, path in routes)
    assert not any(not path.startswith("/api/v1/") for _, path in routes)
