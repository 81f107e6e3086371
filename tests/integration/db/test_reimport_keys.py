"""Migration ``fb8e98b66b9e``: the archive and document-number keys cover only jobs and bills in force."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, insert, inspect, select

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
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    # The current runtime is restored afterwards: the portal tests' demo stack serves from it.
    monkeypatch.setattr(runtime, "_current", runtime._current)
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
    assert "released_at IS NULL" in str(jobs["dialect_options"]["sqlite_where"])
    key = bills["uq_bills_document_number_series_year"]
    assert key["unique"] and key["column_names"] == ["document_number", "series", "year"]
    assert "withdrawn_at IS NULL" in str(key["dialect_options"]["sqlite_where"])
    assert not bills["ix_bills_document_number"]["unique"]


def _add_job_with_bill(rt: Runtime, job_id: int, state: str) -> None:
    """Insert a job and one bill as the schema before the migration stores them."""
    engine = rt.db.tenant_engine(TENANT)
    metadata = MetaData()
    jobs = Table("jobs", metadata, autoload_with=engine)
    bills = Table("bills", metadata, autoload_with=engine)
    changed = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(insert(jobs).values(
            id=job_id, state=state, filename="flusso.zip", source="cli", archive_sha256=f"{job_id:064d}",
            archive_key="k", archive_size=1, opened_by="cli", created_at=changed, updated_at=changed, report={},
            bills_accepted=1, bills_rejected=0, test_round=1))
        connection.execute(insert(bills).values(
            public_id=f"bill{job_id}", job_id=job_id, source_file="f.xml", body_index=1,
            document_number=f"FT{job_id}", series="", year=2026, document_type="TD01", issue_date=changed.date(),
            currency="EUR", amount_due="10.00", direct_debit=False, payable_online=True, service="luce",
            seller_name="", customer_code="C1", customer_name="Mario Rossi", warnings=[], details={},
            created_at=changed))


def test_upgrade_releases_rejected_jobs(rt: Runtime) -> None:
    migrate.upgrade_tenant(rt.db, TENANT, BEFORE)
    _add_job_with_bill(rt, 1, "test_rejected")
    _add_job_with_bill(rt, 2, "failed")
    _add_job_with_bill(rt, 3, "dispatched")

    migrate.upgrade_tenant(rt.db, TENANT)

    engine = rt.db.tenant_engine(TENANT)
    metadata = MetaData()
    jobs = Table("jobs", metadata, autoload_with=engine)
    bills = Table("bills", metadata, autoload_with=engine)
    with engine.connect() as connection:
        released = {job_id: at for job_id, at in connection.execute(select(jobs.c.id, jobs.c.released_at))}
        withdrawn = {job_id: at for job_id, at in connection.execute(select(bills.c.job_id, bills.c.withdrawn_at))}
    assert {job_id for job_id, at in released.items() if at is not None} == {1, 2}
    assert {job_id for job_id, at in withdrawn.items() if at is not None} == {1}
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_downgrade_restores_full_keys(rt: Runtime) -> None:
    migrate.upgrade_tenant(rt.db, TENANT)

    with rt.db.tenant_engine(TENANT).begin() as connection:
        command.downgrade(migrate._config("tenant", connection, None), BEFORE)

    assert {table: _unique_constraints(rt, table) for table in FULL_KEYS} == FULL_KEYS
    assert "ix_bills_document_number" not in _indexes(rt, "bills")
    with rt.db.tenant_engine(TENANT).connect() as connection:
        assert "withdrawn_at" not in {column["name"] for column in inspect(connection).get_columns("bills")}
