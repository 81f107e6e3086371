"""Every "Stat. ticket" figure of the hand-computed dataset on PostgreSQL (same checks as on SQLite)."""

from __future__ import annotations

import pytest

from bolletta.platform.db.database import Database
from bolletta.platform.stats import rollup
from bolletta.tenants.registry import create_tenant
from tests.integration.stats import checks, dataset
from tests.integration.stats.test_audit_append_only import check_append_only

pytestmark = pytest.mark.services


@pytest.fixture
def tenant(db: Database, request: pytest.FixtureRequest) -> str:
    slug = f"stats{abs(hash(request.node.name)) % 10**6}"
    create_tenant(db, slug, "Stats Energia")
    return slug


def test_every_figure_of_the_year(db: Database, tenant: str) -> None:
    with db.tenant_session(tenant) as session:
        dataset.build(session)
        assert rollup.refresh(session) == -1
        checks.check_year(session)


def test_one_job(db: Database, tenant: str) -> None:
    with db.tenant_session(tenant) as session:
        data = dataset.build(session)
        rollup.refresh(session)
        checks.check_job(session, data)


def test_incremental_refresh_counts_late_changes(db: Database, tenant: str) -> None:
    with db.tenant_session(tenant) as session:
        data = dataset.build(session)
        rollup.refresh(session)
        checks.check_incremental_refresh(session, data)


def test_audit_entries_cannot_change(db: Database, tenant: str) -> None:
    check_append_only(db, tenant)
