"""Migration ``fb8e98b66b9e``: the archive and document-number keys hold only for jobs and bills in force."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect

from bolletta.platform import runtime
from bolletta.platform.db import migrate
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings

TENANT = "riprova"
BEFORE = "c8e1f4a2b7d3"
FULL_KEYS = {
    "jobs": {"uq_jobs_archive_sha256"},
    "bills": {"uq_bills_document_number_series_year", "uq_bills_public_id"},
}


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    configured = runtime.configure(load_settings(environ={}, data_dir=str(tmp_path), database_url="",
                                                 secret_key="r" * 48))
    migrate.upgrade_platform(configured.db)
    yield configured
    configured.db.dispose()


def _unique_constraints(rt: Runtime, table: str) -> set[str]:
    with rt.db.tenant_engine(TENANT).connect() as connection:
        return {str(key["name"]) for key in inspect(connection).get_unique_constraints(table)}


def _indexes(rt: Runtime, table: str) -> dict[str, dict[str, Any]]:
    with rt.db.tenant_engine(TENANT).connect() as connection:
        return {str(index["name"]): dict(index) for index in inspect(connection).get_indexes(table)}


def test_upgrade_makes_keys_partial(rt: Runtime) -> None:
    migrate.upgrade_tenant(rt.db, TENANT, BEFORE)
    assert {table: _unique_constraints(rt, table) for table in FULL_KEYS} == FULL_KEYS

    migrate.upgrade_tenant(rt.db, TENANT)

    assert _unique_constraints(rt, "jobs") == set()
    assert _unique_constraints(rt, "bills") == {"uq_bills_public_id"}
    jobs = _indexes(rt, "jobs")["uq_jobs_archive_sha256"]
    bills = _indexes(rt, "bills")
    assert jobs["unique"] and jobs["column_names"] == ["archive_sha256"]
    assert "test_rejected" in str(jobs["dialect_options"]["sqlite_where"])
    key = bills["uq_bills_document_number_series_year"]
    assert key["unique"] and key["column_names"] == ["document_number", "series", "year"]
    assert "withdrawn_at IS NULL" in str(key["dialect_options"]["sqlite_where"])
    assert not bills["ix_bills_document_number"]["unique"]


def test_downgrade_restores_full_keys(rt: Runtime) -> None:
    migrate.upgrade_tenant(rt.db, TENANT)

    with rt.db.tenant_engine(TENANT).begin() as connection:
        command.downgrade(migrate._config("tenant", connection, None), BEFORE)

    assert {table: _unique_constraints(rt, table) for table in FULL_KEYS} == FULL_KEYS
    assert "ix_bills_document_number" not in _indexes(rt, "bills")
    with rt.db.tenant_engine(TENANT).connect() as connection:
        assert "withdrawn_at" not in {column["name"] for column in inspect(connection).get_columns("bills")}
