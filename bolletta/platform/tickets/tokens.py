"""Ticket tokens: issued once in clear, stored only as an HMAC, looked up by that HMAC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Ticket
from bolletta.platform.keys import hmac_hex
from bolletta.platform.tokens import is_base62, random_base62


def new_token() -> str:
    """Generate a fresh ticket token (22 base62 characters)."""
    return random_base62()


def token_hash(key: bytes, token: str) -> str:
    """Compute the stored form of ``token``."""
    return hmac_hex(key, token)


async def find_ticket(session: AsyncSession, keys: list[bytes], token: str) -> Ticket | None:
    """Find the ticket whose token is ``token`` under the current or an earlier key, else ``None``.

    A malformed token is not hashed at all, so probing costs the same as a miss.
    """
    if not is_base62(token):
        return None
    hashes = [token_hash(key, token) for key in keys]
    return await session.scalar(select(Ticket).where(Ticket.token_hash.in_(hashes)))


def is_usable(ticket: Ticket, now: datetime | None = None) -> bool:
    """True when the ticket is neither expired nor revoked."""
    moment = now or clock.now()
    return ticket.revoked_at is None and clock.as_utc(ticket.expires_at) > moment
