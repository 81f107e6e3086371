"""Migration ``c8e1f4a2b7d3``: the events table loses its two foreign keys and keeps its indexes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from bolletta.platform import runtime
from bolletta.platform.db import migrate
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings

TENANT = "eventi"
BEFORE = "a7e3c5d9f210"


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    # The current runtime is restored afterwards: the portal tests' demo stack serves from it.
    monkeypatch.setattr(runtime, "_current", runtime._current)
    configured = runtime.configure(load_settings(environ={}, data_dir=str(tmp_path), database_url="",
                                                 secret_key="e" * 48))
    migrate.upgrade_platform(configured.db)
    yield configured
    configured.db.dispose()


def _foreign_keys(rt: Runtime) -> set[str]:
    with rt.db.tenant_engine(TENANT).connect() as connection:
        return {key["name"] for key in inspect(connection).get_foreign_keys("events")}


def _indexes(rt: Runtime) -> set[str]:
    with rt.db.tenant_engine(TENANT).connect() as connection:
        return {index["name"] for index in inspect(connection).get_indexes("events")}


def test_upgrade_drops_foreign_keys_keeps_indexes(rt: Runtime) -> None:
    migrate.upgrade_tenant(rt.db, TENANT, BEFORE)
    assert _foreign_keys(rt) == {"fk_events_ticket_id_tickets", "fk_events_bill_id_bills"}
    indexes = _indexes(rt)

    migrate.upgrade_tenant(rt.db, TENANT)

    assert _foreign_keys(rt) == set()
    assert _indexes(rt) == indexes == {"ix_events_ticket_id", "ix_events_bill_id"}


def test_downgrade_restores_foreign_keys(rt: Runtime) -> None:
    migrate.upgrade_tenant(rt.db, TENANT)

    with rt.db.tenant_engine(TENANT).begin() as connection:
        command.downgrade(migrate._config("tenant", connection, None), BEFORE)

    assert _foreign_keys(rt) == {"fk_events_ticket_id_tickets", "fk_events_bill_id_bills"}
