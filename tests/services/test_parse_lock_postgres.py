"""The parse lock on PostgreSQL: an advisory lock per tenant and job, freed when its connection ends."""

from __future__ import annotations

import psycopg
import pytest

from bolletta.platform.db.database import Database
from bolletta.platform.jobs.parse_lock import lock_key, parse_lock
from bolletta.tenants.registry import create_tenant

pytestmark = pytest.mark.services


@pytest.fixture(scope="module", autouse=True)
def tenants(db: Database) -> None:
    """Create the module's tenants in the run's database."""
    create_tenant(db, "blocco", "Blocco Energia")
    create_tenant(db, "altra", "Altra Energia")


def test_second_parser_refused_while_first_holds(db: Database) -> None:
    with parse_lock(db, "blocco", 7) as first, parse_lock(db, "blocco", 7) as second:
        assert first
        assert not second
    with parse_lock(db, "blocco", 7) as after:
        assert after


def test_other_jobs_and_tenants_not_blocked(db: Database) -> None:
    with (parse_lock(db, "blocco", 7) as held, parse_lock(db, "blocco", 8) as other_job,
          parse_lock(db, "altra", 7) as other_tenant):
        assert held
        assert other_job
        assert other_tenant


def test_lock_of_dead_worker_freed(db: Database, database_url: str) -> None:
    # A worker that dies holding the lock: its connection ends, and PostgreSQL frees the lock.
    worker = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    acquired = worker.execute("SELECT pg_try_advisory_lock(%s)", (lock_key("blocco", 9),)).fetchone()
    assert acquired == (True,)

    with parse_lock(db, "blocco", 9) as while_alive:
        assert not while_alive
    worker.close()
    with parse_lock(db, "blocco", 9) as after_death:
        assert after_death


def test_lock_released_after_error(db: Database) -> None:
    with pytest.raises(RuntimeError, match="on purpose"), parse_lock(db, "blocco", 10) as held:
        assert held
        raise RuntimeError("on purpose")

    with parse_lock(db, "blocco", 10) as again:
        assert again
