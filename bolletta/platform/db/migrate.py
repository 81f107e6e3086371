"""Run the Alembic environments of ``migrations/`` on the platform level and on each tenant.

The folder sits at the repository root in a checkout and is packaged as ``bolletta/_migrations``
in the wheel; :func:`migrations_dir` finds either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

from bolletta.platform.db.base import PLATFORM_SCHEMA
from bolletta.platform.db.database import Database, tenant_schema
from bolletta.platform.errors import ConfigurationError

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parents[2]


def migrations_dir() -> Path:
    """The folder holding the ``platform`` and ``tenant`` Alembic environments."""
    for candidate in (PACKAGE_DIR / "_migrations", PACKAGE_DIR.parent / "migrations"):
        if (candidate / "tenant" / "env.py").is_file():
            return candidate
    raise ConfigurationError(
        f"Alembic migrations not found in {PACKAGE_DIR / '_migrations'} or "
        f"{PACKAGE_DIR.parent / 'migrations'}; reinstall the package."
    )


def _config(level: str, connection: Connection, version_schema: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir() / level))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s_%%(rev)s")
    config.attributes["connection"] = connection
    config.attributes["version_schema"] = version_schema
    return config


def upgrade_platform(db: Database, revision: str = "head") -> None:
    """Create the platform schema if needed and migrate it to ``revision``."""
    with db.platform_engine().begin() as connection:
        if not db.is_sqlite:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{PLATFORM_SCHEMA}"'))
        schema = None if db.is_sqlite else PLATFORM_SCHEMA
        command.upgrade(_config("platform", connection, schema), revision)
    logger.info("platform level migrated to %s", revision)


@contextmanager
def _migrating(engine: Engine, is_sqlite: bool) -> Iterator[Connection]:
    """Open a connection in a transaction that commits on exit, with foreign keys off on SQLite.

    Alembic's batch mode changes a SQLite table by copying it, dropping the original and renaming the
    copy. With foreign keys on, dropping a table that other tables refer to fails. SQLite ignores
    ``PRAGMA foreign_keys`` inside a transaction, so it is switched off before the transaction begins,
    and ``PRAGMA foreign_key_check`` must find nothing before the commit.

    Raises:
        ConfigurationError: on SQLite, the migrated tables break a foreign key (the transaction rolls back).
    """
    with engine.connect() as connection:
        if is_sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                yield connection
                if is_sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise ConfigurationError(
                            f"The migration broke foreign keys (table, rowid, parent): {broken[:5]}")
        finally:
            if is_sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def upgrade_tenant(db: Database, slug: str, revision: str = "head") -> None:
    """Create the tenant's schema (or file) if needed and migrate it to ``revision``."""
    with _migrating(db.tenant_engine(slug), db.is_sqlite) as connection:
        if not db.is_sqlite:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{tenant_schema(slug)}"'))
        schema = None if db.is_sqlite else tenant_schema(slug)
        command.upgrade(_config("tenant", connection, schema), revision)
    logger.info("tenant %s migrated to %s", slug, revision)


def drop_tenant_storage(db: Database, slug: str) -> None:
    """Delete the tenant's schema or database file (used when provisioning fails half-way)."""
    if db.is_sqlite:
        path = db.settings.data_path / "tenants" / f"{slug}.db"
        db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with db.platform_engine().begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{tenant_schema(slug)}" CASCADE'))


def revision(level: str, db: Database, message: str) -> None:
    """Autogenerate a revision for ``level`` against the current database (developers only)."""
    engine = db.platform_engine() if level == "platform" else db.tenant_engine("autogen")
    with engine.begin() as connection:
        command.revision(_config(level, connection), message=message, autogenerate=True)
