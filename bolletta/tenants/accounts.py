"""Staff users and SFTP accounts: platform-level logins, globally unique usernames."""

from __future__ import annotations

from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import SftpAccount, Tenant, User
from bolletta.platform.errors import BollettaError
from bolletta.platform.passwords import hash_password, verify_password

ROLES = ("platform_admin", "tenant_admin", "tenant_operator", "tenant_viewer")
TENANT_ROLES = ROLES[1:]
MIN_PASSWORD_LENGTH = 10


class AccountError(BollettaError):
    """Raised when a user or SFTP account cannot be created as asked."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(
    db: Database, username: str, password: str, role: str, *, tenant_slug: str | None = None,
    email: str = "", full_name: str = "",
) -> User:
    """Create a staff login; tenant roles need ``tenant_slug``, platform admins must not have one."""
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")
    if (role in TENANT_ROLES) != (tenant_slug is not None):
        raise AccountError(f"Role {role} {'needs' if role in TENANT_ROLES else 'takes no'} tenant.")
    _check_password(password)
    with db.platform_session() as session:
        if session.scalar(select(User).where(User.username == username)) is not None:
            raise AccountError(f"Username {username!r} is taken; pick another.")
        tenant_id = None
        if tenant_slug is not None:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
            if tenant_id is None:
                raise AccountError(f"Tenant {tenant_slug!r} not found.")
        user = User(
            username=username, password_hash=hash_password(password), role=role, tenant_id=tenant_id,
            email=email, full_name=full_name, active=True, created_at=clock.now(),
        )
        session.add(user)
        session.commit()
        return user


def authenticate_user(db: Database, username: str, password: str) -> User | None:
    """The active user with these credentials, or ``None``; records the login time."""
    with db.platform_session() as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if not verify_password(user.password_hash if user else None, password) or user is None:
            return None
        user.last_login_at = clock.now()
        session.commit()
        return user


def create_sftp_account(db: Database, tenant_slug: str, username: str, password: str) -> SftpAccount:
    """Create the SFTP login of a tenant's billing system."""
    _check_password(password)
    with db.platform_session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
        if tenant_id is None:
            raise AccountError(f"Tenant {tenant_slug!r} not found.")
        if session.scalar(select(SftpAccount).where(SftpAccount.username == username)) is not None:
            raise AccountError(f"SFTP username {username!r} is taken; pick another.")
        account = SftpAccount(
            username=username, password_hash=hash_password(password), tenant_id=tenant_id,
            created_at=clock.now(),
        )
        session.add(account)
        session.commit()
        return account


def authenticate_sftp(db: Database, username: str, password: str) -> str | None:
    """The tenant slug of the SFTP account with these credentials, or ``None``."""
    with db.platform_session() as session:
        row = session.execute(
            select(SftpAccount.password_hash, Tenant.slug, Tenant.status)
            .join(Tenant, Tenant.id == SftpAccount.tenant_id)
            .where(SftpAccount.username == username)
        ).first()
    if not verify_password(row.password_hash if row else None, password) or row is None:
        return None
    return row.slug if row.status == "active" else None
