"""Customer pages on a tenant's own link domain, with the platform host kept apart."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import msgspec
import pytest

from bolletta.platform.stack import EmbeddedStack, start_stack
from tests.integration.stack_support import create_test_tenant, stack_settings

ACME_DOMAIN = "bollette.acme.example"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    """A stack serving customer pages on link domains, as production does (no /c/ prefix on the platform host)."""
    settings = msgspec.structs.replace(stack_settings(tmp_path_factory.mktemp("data")), tenant_path_prefix=False)
    running = start_stack(settings, create_secret=True, run_scheduler=False)
    try:
        create_test_tenant(running, "acme", link_domain=ACME_DOMAIN)
        create_test_tenant(running, "beta", link_domain="bollette.beta.example")
        yield running
    finally:
        running.stop()


def _get(stack: EmbeddedStack, path: str, host: str) -> httpx.Response:
    return httpx.get(f"{stack.base_url}{path}", headers={"Host": host})


def test_own_pages_reachable_on_link_domain(stack: EmbeddedStack) -> None:
    assert _get(stack, "/theme.css", ACME_DOMAIN).status_code == 200
    assert _get(stack, "/c/acme/theme.css", ACME_DOMAIN).status_code == 200


def test_other_tenant_unreachable_on_link_domain(stack: EmbeddedStack) -> None:
    assert _get(stack, "/c/beta/theme.css", ACME_DOMAIN).status_code == 404
    assert _get(stack, "/c/beta/theme.css", "bollette.beta.example").status_code == 200


def test_customer_pages_not_on_platform_host(stack: EmbeddedStack) -> None:
    platform_host = stack.rt.settings.platform_host

    assert _get(stack, "/c/acme/theme.css", platform_host).status_code == 404
    assert _get(stack, "/office/login", ACME_DOMAIN).status_code == 404
    assert _get(stack, "/office/login", platform_host).status_code == 200
