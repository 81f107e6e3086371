"""The audit log is append-only in the database itself, on SQLite (the PostgreSQL twin is in tests/services)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DatabaseError

from bolletta.platform import audit
from bolletta.platform.db import migrate
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.settings import load_settings
from bolletta.tenants.registry import create_tenant


@pytest.fixture
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(load_settings(environ={}, data_dir=str(tmp_path_factory.mktemp("audit")), database_url=""))
    migrate.upgrade_platform(database)
    create_tenant(database, "registro", "Registro Energia")
    yield database
    database.dispose()


def check_append_only(db: Database, tenant: str) -> None:
    """Adding works; changing or deleting an entry fails and leaves it as it was."""
    with db.tenant_session(tenant) as session:
        audit.record(session, actor="user:prova", action="ticket.revoke", target="ticket:1")
        session.commit()
        for statement in (update(AuditEntry).values(actor="user:altro"), delete(AuditEntry)):
            with pytest.raises(DatabaseError, match="append-only"):
                session.execute(statement)
            session.rollback()
        actors = list(session.scalars(AuditEntry.__table__.select().with_only_columns(AuditEntry.actor)))
    assert actors == ["user:prova"]


def test_audit_entries_cannot_change(db: Database) -> None:
    check_append_only(db, "registro")
