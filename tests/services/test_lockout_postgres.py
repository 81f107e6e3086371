"""Sign-in lockout per username and address, and the TOTP re-enrolment flag, on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import User
from bolletta.platform.office import lockout
from bolletta.tenants.accounts import create_user
from bolletta.tenants.registry import create_tenant

pytestmark = pytest.mark.services


@pytest.fixture(scope="module", autouse=True)
def tenants(db: Database) -> None:
    """Create the module's tenant in the run's database."""
    create_tenant(db, "lockout", "Lockout Energia")


def test_lock_per_address(db: Database) -> None:
    for _ in range(lockout.MAX_FAILURES):
        lockout.record_failure(db, "Rossi.Mario", "2001:db8::1")

    assert lockout.is_locked(db, "rossi.mario", "2001:db8::1")
    assert not lockout.is_locked(db, "rossi.mario", "198.51.100.7")
    assert lockout.failures_of(db, "ROSSI.MARIO") == lockout.MAX_FAILURES

    lockout.clear(db, "rossi.mario", "2001:db8::1")

    assert not lockout.is_locked(db, "rossi.mario", "2001:db8::1")
    assert lockout.failures_of(db, "rossi.mario") == lockout.MAX_FAILURES  # the username's total stays


def test_new_user_has_no_enrolment_due(db: Database) -> None:
    create_user(db, "lockout.operatore", "una-password-lunga-abbastanza", "tenant_operator", tenant_slug="lockout")

    with db.platform_session() as session:
        due = session.scalar(select(User.totp_enrolment_due).where(User.username == "lockout.operatore"))

    assert due is False
