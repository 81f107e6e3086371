"""The retention purge on PostgreSQL, where each tenant is a schema: only the purged tenant's old rows
go, and the audit log stays append-only for everything else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError

from bolletta.platform import runtime
from bolletta.platform.clock import use_clock
from bolletta.platform.db import migrate
from bolletta.platform.db.models.tenant import AuditEntry, Bill
from bolletta.platform.privacy.retention import purge_tenant
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings
from bolletta.tenants.registry import create_tenant
from tests.integration.privacy.people import add_customer, snapshot

pytestmark = pytest.mark.services

SECRET = "r" * 48


@pytest.fixture(scope="module")
def rt(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    settings = load_settings(environ={}, data_dir=str(tmp_path_factory.mktemp("retention")),
                             database_url=database_url, secret_key=SECRET)
    configured = runtime.configure(settings)
    migrate.upgrade_platform(configured.db)
    create_tenant(configured.db, "east", "East Energia")
    create_tenant(configured.db, "west", "West Gas")
    yield configured
    configured.db.dispose()


def _bills(rt: Runtime, tenant: str) -> int:
    with rt.db.tenant_session(tenant) as session:
        return session.scalar(select(func.count(Bill.id))) or 0


def test_purge_one_schema(rt: Runtime) -> None:
    expired = add_customer(rt, "east", "PG001", "RSSMRA80A01H501U", expires="2025-01-25 00:00")
    kept = add_customer(rt, "east", "PG002", "VRDLGU75B02F205X", expires="2025-06-01 00:00",
                        event_at="2025-06-01 10:00")
    neighbour = add_customer(rt, "west", "PG003", "BNCGNN60C03L219Z", expires="2025-01-25 00:00")
    with rt.db.tenant_session("east") as session:
        session.add(AuditEntry(at=datetime(2016, 1, 4, tzinfo=UTC), actor="old.admin", action="ticket.revoke"))
        session.add(AuditEntry(at=datetime(2020, 1, 4, tzinfo=UTC), actor="old.admin", action="ticket.revoke"))
        session.commit()
    kept_before = snapshot(rt, "east", kept)
    neighbour_before = snapshot(rt, "west", neighbour)

    with use_clock(lambda: datetime(2027, 3, 1, tzinfo=UTC)):
        counts = purge_tenant(rt, "east")

    assert counts["bills"] == 1
    assert counts["audit_entries"] == 1
    assert all(rows == [] for rows in snapshot(rt, "east", expired).values())
    assert snapshot(rt, "east", kept) == kept_before
    assert snapshot(rt, "west", neighbour) == neighbour_before
    assert _bills(rt, "west") == 1
    with rt.db.tenant_session("east") as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["ticket.revoke", "retention.purge"]
    with rt.db.tenant_session("east") as session, pytest.raises(DBAPIError, match="append-only"):
        session.execute(delete(AuditEntry))
        session.commit()
