"""Schema-per-tenant isolation on PostgreSQL, with pooled connections shared by tenants."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import ProgrammingError

from bolletta.platform.db.database import Database
from bolletta.platform.db.models.tenant import Job
from bolletta.tenants.registry import create_tenant

pytestmark = pytest.mark.services


@pytest.fixture(scope="module", autouse=True)
def tenants(db: Database) -> None:
    """Create the module's tenants in the run's database."""
    create_tenant(db, "north", "North Energia")
    create_tenant(db, "south", "South Gas")


def _add_job(db: Database, tenant: str, name: str) -> None:
    now = datetime.now(UTC)
    with db.tenant_session(tenant) as session:
        session.add(Job(state="received", filename=name, source="cli", archive_sha256=name.ljust(64, "0"),
                        archive_key=f"{tenant}/{name}", archive_size=1, opened_by="test", created_at=now,
                        updated_at=now, report={}))
        session.commit()


def test_each_tenant_sees_only_its_rows(db: Database) -> None:
    _add_job(db, "north", "north-flow.zip")
    _add_job(db, "south", "south-flow.zip")

    for _ in range(5):  # alternate on the same pool: no search_path can leak between checkouts
        with db.tenant_session("north") as session:
            assert list(session.scalars(select(Job.filename))) == ["north-flow.zip"]
        with db.tenant_session("south") as session:
            assert list(session.scalars(select(Job.filename))) == ["south-flow.zip"]


def test_unscoped_query_on_tenant_table_fails(db: Database) -> None:
    with db.platform_session() as session, pytest.raises(ProgrammingError):
        session.scalar(select(func.count(Job.id)))


def test_search_path_is_never_changed(db: Database) -> None:
    with db.tenant_session("north") as session:
        session.scalar(select(func.count(Job.id)))
        path = session.scalar(text("SHOW search_path"))
    assert "tenant_" not in str(path)
