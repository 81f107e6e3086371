from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from bolletta.platform import clock
from bolletta.platform.db import migrate
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.tenant import Bill, Job, Ticket
from bolletta.platform.keys import derive_key
from bolletta.platform.settings import load_settings
from bolletta.platform.tickets.tokens import find_ticket, is_usable, new_token, token_hash
from bolletta.platform.tokens import BASE62_ALPHABET

KEY = derive_key("x" * 40, "ticket-hmac")
OLD_KEY = derive_key("y" * 40, "ticket-hmac")
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_token_is_22_base62_characters() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(token) == 22 and set(token) <= set(BASE62_ALPHABET) for token in tokens)


def test_hash_depends_on_key_and_hides_token() -> None:
    token = new_token()
    assert token_hash(KEY, token) != token_hash(OLD_KEY, token)
    assert token not in token_hash(KEY, token)
    assert len(token_hash(KEY, token)) == 64


def _ticket(days: int = 15) -> Ticket:
    return Ticket(bill_id=1, job_id=1, channel="sms", address="+393330000000", created_at=START,
                  expires_at=START + timedelta(days=days))


def test_ticket_valid_until_expiry_as_the_clock_moves() -> None:
    ticket = _ticket()
    with clock.use_clock(lambda: START + timedelta(days=14, hours=23)):
        assert is_usable(ticket)
    with clock.use_clock(lambda: START + timedelta(days=15)):
        assert not is_usable(ticket)


def test_revoked_ticket_is_not_usable() -> None:
    ticket = _ticket()
    ticket.revoked_at = START
    with clock.use_clock(lambda: START + timedelta(days=1)):
        assert not is_usable(ticket)


@pytest_asyncio.fixture
async def session(tmp_path: Path) -> AsyncIterator[AsyncSession]:
    db = Database(load_settings(environ={}, data_dir=str(tmp_path)))
    migrate.upgrade_tenant(db, "acme")
    async with db.tenant_async_session("acme") as async_session:
        yield async_session
    await db.dispose_async()
    db.dispose()


async def _store(session: AsyncSession, key: bytes) -> str:
    token = new_token()
    session.add(Job(id=1, state="parsed", filename="f.zip", source="cli", archive_sha256="0" * 64,
                    archive_key="acme/f", archive_size=1, opened_by="test", created_at=START, updated_at=START,
                    report={}))
    await session.flush()

    session.add(Bill(id=1, public_id="p" * 22, job_id=1, source_file="f.xml", document_number="1", year=2026,
                     document_type="TD01", issue_date=START.date(), amount_due=Decimal("10.00"),
                     service="gas", customer_code="C1", customer_name="Cliente", created_at=START))
    await session.flush()
    ticket = _ticket()
    ticket.token_hash = token_hash(key, token)
    session.add(ticket)
    await session.commit()
    return token


@pytest.mark.asyncio
async def test_find_ticket_by_current_key(session: AsyncSession) -> None:
    token = await _store(session, KEY)

    found = await find_ticket(session, [KEY], token)

    assert found is not None and found.address == "+393330000000"


@pytest.mark.asyncio
async def test_find_ticket_after_key_rotation(session: AsyncSession) -> None:
    token = await _store(session, OLD_KEY)

    assert await find_ticket(session, [KEY], token) is None
    assert await find_ticket(session, [KEY, OLD_KEY], token) is not None


@pytest.mark.asyncio
@pytest.mark.parametrize("token", ["", "short", "x" * 23, "a" * 21 + "!", "../../etc/passwd"])
async def test_malformed_tokens_find_nothing(session: AsyncSession, token: str) -> None:
    await _store(session, KEY)

    assert await find_ticket(session, [KEY], token) is None
