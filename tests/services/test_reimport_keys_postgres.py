"""Migration ``fb8e98b66b9e`` on PostgreSQL: the archive key is unique only among jobs not released."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from bolletta.platform import clock, runtime
from bolletta.platform.db import migrate
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.jobs import states
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings
from bolletta.tenants.registry import create_tenant

pytestmark = pytest.mark.services

TENANT = "riprova"
DIGEST = "ab" * 32


@pytest.fixture(scope="module")
def rt(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    settings = load_settings(environ={}, data_dir=str(tmp_path_factory.mktemp("riprova")),
                             database_url=database_url, secret_key="p" * 48)
    configured = runtime.configure(settings)
    migrate.upgrade_platform(configured.db)
    create_tenant(configured.db, TENANT, "Riprova Energia")
    yield configured
    configured.db.dispose()


def _add_job(rt: Runtime, state: str, *, released: bool = False) -> None:
    now = clock.now()
    with rt.db.tenant_session(TENANT) as session:
        session.add(Job(state=state, filename="flusso.zip", source="cli", archive_sha256=DIGEST, archive_key="k",
                        archive_size=1, opened_by="cli", created_at=now, updated_at=now, report={},
                        released_at=now if released else None))
        session.commit()


def test_partial_keys_on_postgres(rt: Runtime) -> None:
    with rt.db.tenant_engine(TENANT).connect() as connection:
        inspector = inspect(connection)
        schema = f"tenant_{TENANT}"
        jobs = {index["name"]: index for index in inspector.get_indexes("jobs", schema=schema)}
        bills = {index["name"]: index for index in inspector.get_indexes("bills", schema=schema)}
    assert "released_at IS NULL" in str(jobs["uq_jobs_archive_sha256"]["dialect_options"]["postgresql_where"])
    assert "withdrawn_at IS NULL" in str(
        bills["uq_bills_document_number_series_year"]["dialect_options"]["postgresql_where"])

    _add_job(rt, states.TEST_REJECTED, released=True)
    _add_job(rt, states.CANCELLED, released=True)
    _add_job(rt, states.RECEIVED)
    with pytest.raises(IntegrityError):
        _add_job(rt, states.RECEIVED)
