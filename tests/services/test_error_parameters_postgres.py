"""Database errors on PostgreSQL carry no SQL parameters, so tracebacks print no customer data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bolletta.platform.db import migrate
from bolletta.platform.db.database import Database, tenant_schema
from bolletta.platform.settings import load_settings
from bolletta.tenants.registry import create_tenant

pytestmark = pytest.mark.services

EMAIL = "maria.bianchi@example.org"
PHONE = "+393331234567"
ROW = {"email": EMAIL, "phone": PHONE}
TENANT = "parametri"
TABLE = f"{tenant_schema(TENANT)}.parameter_check"
INSERT = text(f"INSERT INTO {TABLE} (email, phone) VALUES (:email, :phone)")


@pytest.fixture(scope="module")
def db(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(load_settings(environ={}, data_dir=str(tmp_path_factory.mktemp("pg")),
                                      database_url=database_url))
    migrate.upgrade_platform(database)
    create_tenant(database, TENANT, "Parametri Energia")
    with database.tenant_engine(TENANT).begin() as connection:
        connection.execute(text(f"CREATE TABLE {TABLE} (email TEXT UNIQUE, phone TEXT)"))
        connection.execute(INSERT, ROW)
    yield database
    database.dispose()


def _assert_no_parameters(error: IntegrityError) -> None:
    """Check that the SQL parameters are left out.

    PostgreSQL's own DETAIL line still names the duplicate key's value, here the e-mail address. So
    only the other parameters, such as the phone number, are checked for.
    """
    message = str(error)
    assert "parameter_check_email_key" in message
    assert "hidden due to hide_parameters" in message
    assert "[parameters:" not in message
    assert PHONE not in message


def test_sync_error_hides_parameters_postgres(db: Database) -> None:
    with db.tenant_session(TENANT) as session, pytest.raises(IntegrityError) as caught:
        session.execute(INSERT, ROW)

    _assert_no_parameters(caught.value)


def test_async_error_hides_parameters_postgres(db: Database) -> None:
    async def insert_again() -> IntegrityError:
        async with db.tenant_async_session(TENANT) as session:
            with pytest.raises(IntegrityError) as caught:
                await session.execute(INSERT, ROW)
        await db.dispose_async()
        return caught.value

    _assert_no_parameters(asyncio.run(insert_again()))
