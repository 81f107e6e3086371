"""``Database.close()`` on SQLite: the ``-wal`` and ``-shm`` files go, even with another connection open."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bolletta.platform.db.database import Database
from bolletta.platform.settings import load_settings

TENANT = "chiusura"


def _database(data: Path) -> Database:
    return Database(load_settings(environ={}, data_dir=str(data), database_url="", secret_key="c" * 48))


def _use_every_pool(db: Database) -> None:
    """Write through the sync pools and read through the async ones, as a server and its actors do."""
    for engine in (db.platform_engine(), db.tenant_engine(TENANT)):
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS notes (body TEXT)"))
            connection.execute(text("INSERT INTO notes VALUES ('kept')"))

    async def read() -> None:
        async with db.platform_async_session() as session:
            assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 1
        async with db.tenant_async_session(TENANT) as session:
            assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 1

    asyncio.run(read())


def _log_files(data: Path) -> list[str]:
    return sorted(str(path.relative_to(data)) for path in data.rglob("*.db-*"))


def test_close_removes_wal_and_shm(tmp_path: Path) -> None:
    db = _database(tmp_path)
    _use_every_pool(db)
    assert _log_files(tmp_path) == ["platform.db-shm", "platform.db-wal", "tenants/chiusura.db-shm",
                                    "tenants/chiusura.db-wal"]

    db.close()

    assert _log_files(tmp_path) == []
    with sqlite3.connect(tmp_path / "tenants" / f"{TENANT}.db") as connection:
        assert connection.execute("SELECT body FROM notes").fetchall() == [("kept",)]


def test_close_with_open_reader(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A connection outside the pools, in a read transaction, locks the file as another process would.

    It keeps the platform's files, and close() neither waits long for it nor breaks it.
    """
    db = _database(tmp_path)
    _use_every_pool(db)
    other = sqlite3.connect(tmp_path / "platform.db", isolation_level=None)
    try:
        other.execute("BEGIN")
        assert other.execute("SELECT count(*) FROM notes").fetchone() == (1,)

        started = time.monotonic()
        with caplog.at_level(logging.INFO, logger="bolletta.platform.db.database"):
            db.close()
        elapsed = time.monotonic() - started

        assert elapsed < 10, f"close() waited {elapsed:.1f} s for the other connection"
        assert "database platform: another process is using it" in caplog.text
        assert (tmp_path / "platform.db-wal").exists()
        assert not (tmp_path / "tenants" / f"{TENANT}.db-wal").exists()
        other.execute("COMMIT")
        other.execute("INSERT INTO notes VALUES ('after close')")
        assert other.execute("SELECT count(*) FROM notes").fetchone() == (2,)
    finally:
        other.close()

    assert _log_files(tmp_path) == []


def test_close_inside_event_loop(tmp_path: Path) -> None:
    # Playwright's sync API runs a loop in the test thread while fixtures stop their stacks.
    db = _database(tmp_path)
    _use_every_pool(db)

    async def close_here() -> None:
        db.close()

    asyncio.run(close_here())

    assert _log_files(tmp_path) == []
