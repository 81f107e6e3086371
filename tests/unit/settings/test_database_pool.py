"""The PostgreSQL pool settings reach both engines of a process; no connection is opened."""

from __future__ import annotations

import pytest

from bolletta.platform.db.database import Database
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.settings import load_settings

URL = "postgresql+psycopg://bolletta@127.0.0.1:5432/bolletta_pool_settings"


def test_pool_settings_reach_both_engines() -> None:
    settings = load_settings(environ={"BOLLETTA_DATABASE_POOL_SIZE": "40", "BOLLETTA_DATABASE_MAX_OVERFLOW": "0",
                                      "BOLLETTA_DATABASE_POOL_TIMEOUT": "2.5"}, database_url=URL)
    database = Database(settings)

    for pool in (database._sync_engine("platform").pool, database._async_engine("platform").sync_engine.pool):
        assert pool.size() == 40  # type: ignore[attr-defined]
        assert pool._max_overflow == 0  # type: ignore[attr-defined]
        assert pool._timeout == 2.5  # type: ignore[attr-defined]


def test_pool_size_zero_rejected() -> None:
    with pytest.raises(ConfigurationError, match="BOLLETTA_DATABASE_POOL_SIZE"):
        load_settings(environ={"BOLLETTA_DATABASE_POOL_SIZE": "0"}, database_url=URL)
