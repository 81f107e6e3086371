"""Database errors carry no SQL parameters, so tracebacks print no customer data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bolletta.platform.db.database import Database
from bolletta.platform.settings import load_settings

TENANT = "parametri"
CUSTOMER_CODE = "CLI-000917"
EMAIL = "maria.bianchi@example.org"
PHONE = "+393331234567"
INSERT = text("INSERT INTO contacts (code, email, phone) VALUES (:code, :email, :phone)")
ROW = {"code": CUSTOMER_CODE, "email": EMAIL, "phone": PHONE}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(load_settings(environ={}, data_dir=str(tmp_path), database_url="", secret_key="p" * 48))
    for engine in (database.platform_engine(), database.tenant_engine(TENANT)):
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE contacts (code TEXT UNIQUE, email TEXT, phone TEXT)"))
            connection.execute(INSERT, ROW)
    yield database
    database.close()


def _assert_no_parameters(error: IntegrityError) -> None:
    message = str(error)
    assert "UNIQUE constraint failed: contacts.code" in message
    assert "hidden due to hide_parameters" in message
    assert CUSTOMER_CODE not in message
    assert EMAIL not in message
    assert PHONE not in message


def test_sync_integrity_error_hides_parameters(db: Database) -> None:
    for session in (db.platform_session(), db.tenant_session(TENANT)):
        with session, pytest.raises(IntegrityError) as caught:
            session.execute(INSERT, ROW)

        _assert_no_parameters(caught.value)


def test_async_integrity_error_hides_parameters(db: Database) -> None:
    async def insert_twice() -> list[IntegrityError]:
        errors = []
        for session in (db.platform_async_session(), db.tenant_async_session(TENANT)):
            async with session:
                with pytest.raises(IntegrityError) as caught:
                    await session.execute(INSERT, ROW)
                errors.append(caught.value)
        await db.dispose_async()
        return errors

    for error in asyncio.run(insert_twice()):
        _assert_no_parameters(error)
