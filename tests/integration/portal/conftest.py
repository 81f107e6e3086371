"""The demo, run once for this folder: embedded stack on free ports, tenant "acme" dispatched.

A second tenant, "beta", with the sandbox gateway enabled and no bills, lets the tests check that
one tenant's tickets, cookies and gateway signatures do not work for the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bolletta.platform.demo.run import DemoResult, run_demo
from bolletta.platform.settings import load_settings
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import create_tenant
from tests.integration.portal.helpers import OTHER_SLUG, Portal


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    """The finished demo; its stack stops after the last test of this folder."""
    data_dir: Path = tmp_path_factory.mktemp("portal-demo")
    settings = load_settings(environ={}, data_dir=str(data_dir), http_port=0, sftp_port=0,
                             tenant_path_prefix=True, cookie_secure=False)
    result = run_demo(settings, smtp_port=0)
    try:
        create_tenant(result.stack.rt.db, OTHER_SLUG, "Beta Luce S.r.l.",
                      TenantConfig(enabled_gateways=["sandbox"]))
        yield result
    finally:
        result.stack.stop()


@pytest.fixture(scope="package")
def portal(demo: DemoResult) -> Portal:
    """The demo with its customer and test links ready to be claimed by tests."""
    return Portal(
        result=demo,
        tokens=[_token(link) for _channel, _recipient, link in demo.customer_links],
        free_test_tokens=[_token(link) for _channel, _recipient, link in demo.test_links],
    )
