"""Engines and sessions for both levels, from the one ``BOLLETTA_DATABASE_URL``.

PostgreSQL: one pool for everything; a tenant session binds the placeholder schema ``tenant`` to
``tenant_<slug>`` with ``schema_translate_map`` (never ``SET search_path``, which would leak
between pooled connections). SQLite: ``platform.db`` plus one ``tenants/<slug>.db`` per tenant.
Web handlers use the async sessions, actors and the CLI the sync ones.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bolletta.platform.db.base import PLATFORM_SCHEMA, TENANT_SCHEMA
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.settings import Settings

logger = logging.getLogger(__name__)

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,38}$")
SQLITE_BUSY_TIMEOUT_MS = 30_000
CHECKPOINT_BUSY_TIMEOUT_MS = 1_000
"""How long the checkpoint at :meth:`Database.close` waits for another process's readers and writers."""


def check_slug(slug: str) -> str:
    """Return ``slug`` if it is a valid tenant slug, else raise ``ConfigurationError``."""
    if not SLUG_PATTERN.match(slug):
        raise ConfigurationError(
            f"Invalid tenant slug {slug!r}: use 2 to 39 lower-case letters, digits or '_', "
            "starting with a letter."
        )
    return slug


def tenant_schema(slug: str) -> str:
    """PostgreSQL schema name of a tenant."""
    return f"tenant_{check_slug(slug)}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


class Database:
    """Engine and session factory for the platform level and every tenant.

    Every engine is created with ``hide_parameters=True``, so the text of a database error (and so a
    logged or printed traceback) never carries the SQL parameters: customer codes, e-mail addresses,
    phone numbers.

    NOTE: on PostgreSQL a unique violation's DETAIL line, which psycopg puts in the error text, still
    names the duplicate key's value, such as a document number or an e-mail address.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.is_sqlite = settings.uses_sqlite
        self._lock = threading.Lock()
        self._sync: dict[str, Engine] = {}
        self._async: dict[str, AsyncEngine] = {}
        if not self.is_sqlite and not settings.database_url.startswith("postgresql"):
            raise ConfigurationError(
                f"BOLLETTA_DATABASE_URL must be postgresql+psycopg://... or empty for SQLite, "
                f"not {settings.database_url.split(':', 1)[0]}://..."
            )

    # Engines ------------------------------------------------------------------------------------

    def _sqlite_path(self, name: str) -> Path:
        base = self.settings.data_path
        path = base / "platform.db" if name == PLATFORM_SCHEMA else base / "tenants" / f"{name}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _sync_engine(self, name: str) -> Engine:
        key = name if self.is_sqlite else "*"
        with self._lock:
            engine = self._sync.get(key)
            if engine is None:
                if self.is_sqlite:
                    engine = create_engine(f"sqlite:///{self._sqlite_path(name)}", hide_parameters=True)
                    event.listen(engine, "connect", _sqlite_pragmas)
                else:
                    engine = create_engine(_psycopg_url(self.settings.database_url), hide_parameters=True,
                                           **self._pool_options())
                self._sync[key] = engine
            return engine

    def _async_engine(self, name: str) -> AsyncEngine:
        key = name if self.is_sqlite else "*"
        with self._lock:
            engine = self._async.get(key)
            if engine is None:
                if self.is_sqlite:
                    engine = create_async_engine(f"sqlite+aiosqlite:///{self._sqlite_path(name)}",
                                                 hide_parameters=True)
                    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
                else:
                    engine = create_async_engine(_psycopg_url(self.settings.database_url), hide_parameters=True,
                                                 **self._pool_options())
                self._async[key] = engine
            return engine

    def _pool_options(self) -> dict[str, Any]:
        settings = self.settings
        return {"pool_pre_ping": True, "pool_size": settings.database_pool_size,
                "max_overflow": settings.database_max_overflow, "pool_timeout": settings.database_pool_timeout}

    def _translate_map(self, slug: str | None) -> dict[str | None, str | None]:
        if self.is_sqlite:
            return {PLATFORM_SCHEMA: None, TENANT_SCHEMA: None}
        mapping: dict[str | None, str | None] = {PLATFORM_SCHEMA: PLATFORM_SCHEMA}
        if slug is not None:
            mapping[TENANT_SCHEMA] = tenant_schema(slug)
        return mapping

    def platform_engine(self) -> Engine:
        """Sync engine bound to the platform level."""
        return self._sync_engine(PLATFORM_SCHEMA).execution_options(
            schema_translate_map=self._translate_map(None)
        )

    def tenant_engine(self, slug: str) -> Engine:
        """Sync engine bound to one tenant's schema or file."""
        check_slug(slug)
        return self._sync_engine(slug).execution_options(schema_translate_map=self._translate_map(slug))

    # Sessions -----------------------------------------------------------------------------------

    def platform_session(self) -> Session:
        """Open a sync session on platform tables only."""
        return Session(bind=self.platform_engine(), expire_on_commit=False)

    def tenant_session(self, slug: str) -> Session:
        """Open a sync session on one tenant's tables, the only way actors reach tenant data."""
        session = Session(bind=self.tenant_engine(slug), expire_on_commit=False)
        session.info["tenant"] = slug
        return session

    def platform_async_session(self) -> AsyncSession:
        """Open an async session on platform tables only."""
        engine = self._async_engine(PLATFORM_SCHEMA).execution_options(
            schema_translate_map=self._translate_map(None)
        )
        return async_sessionmaker(engine, expire_on_commit=False)()

    def tenant_async_session(self, slug: str) -> AsyncSession:
        """Open an async session on one tenant's tables, the only way web handlers reach tenant data."""
        check_slug(slug)
        engine = self._async_engine(slug).execution_options(
            schema_translate_map=self._translate_map(slug)
        )
        session = async_sessionmaker(engine, expire_on_commit=False)()
        session.sync_session.info["tenant"] = slug
        return session

    def dispose(self) -> None:
        """Close every pool (sync ones now; async ones are left to garbage collection)."""
        for engine in self._sync.values():
            engine.dispose()
        self._sync.clear()

    async def dispose_async(self) -> None:
        """Close the async pools."""
        for engine in self._async.values():
            await engine.dispose()
        self._async.clear()

    def close(self) -> None:
        """Close every pool when the process stops; on SQLite, also the async ones, then checkpoint each file.

        SQLite deletes a database's ``-wal`` and ``-shm`` files when the last connection to it closes,
        so every pool of this process must be closed. The async pools are closed on a new event loop
        (on a thread of its own when a loop runs in this thread), so call this after the loops that
        used them have ended. Then each
        file gets ``PRAGMA wal_checkpoint(TRUNCATE)`` on a connection of its own: a file that another
        process still has open keeps its ``-wal`` file, emptied when that process is not reading or
        writing at that moment. A checkpoint only copies committed pages into the database file,
        and it waits at most :data:`CHECKPOINT_BUSY_TIMEOUT_MS` for the other process.

        With PostgreSQL only the sync pools are closed: the server ends the async connections when the
        process exits.
        """
        if not self.is_sqlite:
            self.dispose()
            return
        names = set(self._sync) | set(self._async)
        if self._async:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                asyncio.run(self.dispose_async())
            else:
                # A loop runs in this thread (Playwright's sync API runs one in tests), and
                # asyncio.run cannot start a second one here, so the pools close on a thread of their own.
                closer = threading.Thread(target=asyncio.run, args=(self.dispose_async(),), name="db-close")
                closer.start()
                closer.join()
        self.dispose()
        for name in sorted(names):
            self._checkpoint(name)

    def _checkpoint(self, name: str) -> None:
        """Copy the write-ahead log of the SQLite file ``name`` into the database and truncate it."""
        engine = create_engine(f"sqlite:///{self._sqlite_path(name)}", poolclass=NullPool, hide_parameters=True)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_TIMEOUT_MS}")
                busy, log_pages, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if busy:
                logger.info("database %s: another process is using it, so %d of %d log pages were copied and "
                            "its -wal file stays", name, copied, log_pages)
        finally:
            engine.dispose()


def _psycopg_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


__all__ = ["Database", "check_slug", "tenant_schema"]
