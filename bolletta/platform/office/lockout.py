"""Lockout of staff sign-in after repeated failures, per username and client address.

After :data:`MAX_FAILURES` failed attempts at one username from one address within :data:`WINDOW`,
that address may not sign in as that username for :data:`LOCK_TIME`, even with the right password.
Other addresses are unaffected, so a colleague's username alone is not enough to lock them out.

Against guessing from many addresses, all failures of a username are counted too. Once they reach
:data:`SLOWDOWN_FAILURES` within :data:`WINDOW`, the username is slowed, not locked: after each further
failure, every attempt at it is rejected for :data:`SLOWDOWN_DELAY`. Attempts rejected by a lock or
a slowdown are not counted, so only real password checks move the counts.

Unknown usernames are counted the same way, and the page shows the same message in every case, so
the lock reveals nothing about which accounts exist. A successful sign-in clears the count of its
address; the username's total expires with the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import LoginFailure, LoginSourceFailure

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
SLOWDOWN_FAILURES = 50
# NOTE: attackers who fail once per delay, each time from a fresh address, keep the username waiting
# for as long as they go on. Each wait is short, but it is not a guarantee against denial of service.
SLOWDOWN_DELAY = timedelta(seconds=10)
MAX_USERNAME = 150
MAX_ADDRESS = 45


def _key(username: str) -> str:
    return username.strip().lower()[:MAX_USERNAME]


def _active_until(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and clock.as_utc(locked_until) > now


def is_locked(db: Database, username: str, ip: str) -> bool:
    """Return whether sign-in as ``username`` from ``ip`` is rejected now, by a lock or a slowdown."""
    now = clock.now()
    with db.platform_session() as session:
        source = session.get(LoginSourceFailure, (_key(username), ip[:MAX_ADDRESS]))
        if source is not None and _active_until(source.locked_until, now):
            return True
        total = session.get(LoginFailure, _key(username))
        return total is not None and _active_until(total.locked_until, now)


def _count_source(session: Session, username: str, ip: str, now: datetime) -> bool:
    entry = session.get(LoginSourceFailure, (username, ip), with_for_update=True)
    if entry is None:
        entry = LoginSourceFailure(username=username, client_ip=ip, failures=0, first_failure_at=now)
        session.add(entry)
    elif clock.as_utc(entry.first_failure_at) < now - WINDOW:
        entry.failures, entry.first_failure_at, entry.locked_until = 0, now, None
    entry.failures += 1
    if entry.failures >= MAX_FAILURES:
        entry.locked_until = now + LOCK_TIME
        return True
    return False


def _count_username(session: Session, username: str, now: datetime) -> None:
    entry = session.get(LoginFailure, username, with_for_update=True)
    if entry is None:
        entry = LoginFailure(username=username, failures=0, first_failure_at=now)
        session.add(entry)
    elif clock.as_utc(entry.first_failure_at) < now - WINDOW:
        entry.failures, entry.first_failure_at, entry.locked_until = 0, now, None
    entry.failures += 1
    if entry.failures >= SLOWDOWN_FAILURES:
        entry.locked_until = now + SLOWDOWN_DELAY


def record_failure(db: Database, username: str, ip: str) -> bool:
    """Count a failed sign-in of ``username`` from ``ip``; return whether this failure locked the pair."""
    now = clock.now()
    key = _key(username)
    with db.platform_session() as session:
        locked = _count_source(session, key, ip[:MAX_ADDRESS], now)
        _count_username(session, key, now)
        session.commit()
        return locked


def failures_of(db: Database, username: str) -> int:
    """Return the failures of ``username`` from every address counted in the current window."""
    with db.platform_session() as session:
        entry = session.get(LoginFailure, _key(username))
        if entry is None or clock.as_utc(entry.first_failure_at) < clock.now() - WINDOW:
            return 0
        return entry.failures


def clear(db: Database, username: str, ip: str | None = None) -> None:
    """Forget the failures of ``username`` from ``ip`` after a successful sign-in.

    Without ``ip`` (after a password change) every count of the username goes, its total included.
    """
    key = _key(username)
    with db.platform_session() as session:
        if ip is None:
            session.execute(delete(LoginSourceFailure).where(LoginSourceFailure.username == key))
            session.execute(delete(LoginFailure).where(LoginFailure.username == key))
        else:
            session.execute(delete(LoginSourceFailure).where(LoginSourceFailure.username == key,
                                                             LoginSourceFailure.client_ip == ip[:MAX_ADDRESS]))
        session.commit()
