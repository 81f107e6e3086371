"""The tenant's suppression list (spec section 4): contacts dispatch skips and reports.

Fed by e-mail unsubscribe (``List-Unsubscribe``), provider opt-out reports, hard bounces and staff.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Suppression

REASONS = frozenset({"unsubscribe", "opt_out", "bounce", "staff"})


def suppress(session: Session, channel: str, address: str, *, reason: str, source: str = "") -> bool:
    """Add a contact to the list inside the session's transaction; return False when it was there."""
    if reason not in REASONS:
        raise ValueError(f"unknown suppression reason {reason!r}")
    if is_suppressed(session, channel, address):
        return False
    try:
        with session.begin_nested():
            session.add(Suppression(channel=channel, address=address, reason=reason, source=source[:120],
                                    created_at=clock.now()))
    except IntegrityError:
        return False
    return True


def unsuppress(session: Session, channel: str, address: str) -> bool:
    """Remove a contact from the list; return whether it was there."""
    result = session.execute(delete(Suppression).where(Suppression.channel == channel, Suppression.address == address))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def is_suppressed(session: Session, channel: str, address: str) -> bool:
    """Return whether the contact is on the list."""
    return session.scalar(
        select(Suppression.id).where(Suppression.channel == channel, Suppression.address == address)
    ) is not None


def suppressed_among(session: Session, contacts: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Return which of the ``(channel, address)`` pairs are on the list, in one query."""
    pairs = list(set(contacts))
    if not pairs:
        return set()
    found: set[tuple[str, str]] = set()
    for start in range(0, len(pairs), 500):
        chunk = pairs[start:start + 500]
        found.update(
            (row.channel, row.address)
            for row in session.execute(
                select(Suppression.channel, Suppression.address).where(
                    tuple_(Suppression.channel, Suppression.address).in_(chunk)
                )
            )
        )
    return found
