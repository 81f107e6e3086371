"""Lockout of staff sign-in after repeated failures, per username.

After :data:`MAX_FAILURES` failed attempts within :data:`WINDOW`, the username is locked for
:data:`LOCK_TIME`, even with the right password. Unknown usernames are counted the same way, and
the page shows the same message in every case, so the lock reveals nothing about which accounts
exist. A successful sign-in clears the count.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from bolletta.platform import clock
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import LoginFailure

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
MAX_USERNAME = 150


def _key(username: str) -> str:
    return username.strip().lower()[:MAX_USERNAME]


def is_locked(db: Database, username: str) -> bool:
    """Return whether ``username`` is locked now."""
    with db.platform_session() as session:
        entry = session.get(LoginFailure, _key(username))
        return entry is not None and entry.locked_until is not None and clock.as_utc(entry.locked_until) > clock.now()


def record_failure(db: Database, username: str) -> bool:
    """Count a failed sign-in of ``username``; return whether this failure locked it."""
    now = clock.now()
    with db.platform_session() as session:
        entry = session.get(LoginFailure, _key(username), with_for_update=True)
        if entry is None:
            entry = LoginFailure(username=_key(username), failures=0, first_failure_at=now)
            session.add(entry)
        elif clock.as_utc(entry.first_failure_at) < now - WINDOW:
            entry.failures, entry.first_failure_at, entry.locked_until = 0, now, None
        entry.failures += 1
        locked = entry.failures >= MAX_FAILURES
        if locked:
            entry.locked_until = now + LOCK_TIME
        session.commit()
        return locked


def clear(db: Database, username: str) -> None:
    """Forget the failures of ``username`` after a successful sign-in."""
    with db.platform_session() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))
        session.commit()
