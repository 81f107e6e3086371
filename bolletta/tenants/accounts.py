"""Staff users and SFTP accounts: platform-level logins, globally unique usernames."""

from __future__ import annotations

import binascii
from base64 import b64decode
from dataclasses import dataclass

import paramiko
from paramiko.pkey import UnknownKeyType
from sqlalchemy import select
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import SftpAccount, SftpAccountKey, Tenant, User
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
    """Return the active user with these credentials, or ``None``, and record the login time."""
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
    """Return the tenant slug of the SFTP account with these credentials, or ``None``."""
    with db.platform_session() as session:
        row = session.execute(
            select(SftpAccount.password_hash, Tenant.slug, Tenant.status)
            .join(Tenant, Tenant.id == SftpAccount.tenant_id)
            .where(SftpAccount.username == username)
        ).first()
    if not verify_password(row.password_hash if row else None, password) or row is None:
        return None
    return row.slug if row.status == "active" else None


SFTP_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
)
"""Public-key types an SFTP account accepts. DSA keys are not accepted: OpenSSH 7.0 disabled them."""
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class SftpKeyInfo:
    """An SSH public key registered for an SFTP account, as listed to admins."""

    username: str
    key_type: str
    fingerprint: str
    comment: str


def parse_public_key(line: str) -> tuple[paramiko.PKey, str]:
    """Parse one OpenSSH public-key line (``type base64 [comment]``) and return the key and comment.

    Raises:
        AccountError: the line is not a public key of a type in :data:`SFTP_KEY_TYPES`, or an RSA
            key is shorter than :data:`MIN_RSA_BITS`.
    """
    fields = line.strip().split(maxsplit=2)
    if len(fields) < 2:
        raise AccountError("The public key is invalid: expected a line like 'ssh-ed25519 AAAA... comment'.")
    key_type, blob = fields[0], fields[1]
    comment = fields[2] if len(fields) == 3 else ""
    if key_type not in SFTP_KEY_TYPES:
        raise AccountError(f"Key type {key_type!r} is not accepted; use one of {', '.join(SFTP_KEY_TYPES)}.")
    try:
        key = paramiko.PKey.from_type_string(key_type, b64decode(blob, validate=True))
    except (binascii.Error, paramiko.SSHException, UnknownKeyType, ValueError) as exc:
        raise AccountError(f"The {key_type} public key is invalid: {exc}") from exc
    if key_type == "ssh-rsa" and key.get_bits() < MIN_RSA_BITS:
        raise AccountError(f"The RSA key has {key.get_bits()} bits; use at least {MIN_RSA_BITS}.")
    return key, comment[:255]


def _sftp_account_id(session: Session, username: str) -> int:
    account_id = session.scalar(select(SftpAccount.id).where(SftpAccount.username == username))
    if account_id is None:
        raise AccountError(f"SFTP account {username!r} not found.")
    return account_id


def add_sftp_key(db: Database, username: str, public_key_line: str) -> SftpKeyInfo:
    """Register an OpenSSH public key that may log in as SFTP account ``username``.

    Raises:
        AccountError: the account does not exist, the key is invalid, or the account already has it.
    """
    key, comment = parse_public_key(public_key_line)
    with db.platform_session() as session:
        account_id = _sftp_account_id(session, username)
        duplicate = session.scalar(
            select(SftpAccountKey.id).where(
                SftpAccountKey.account_id == account_id, SftpAccountKey.fingerprint == key.fingerprint
            )
        )
        if duplicate is not None:
            raise AccountError(f"SFTP account {username!r} already has key {key.fingerprint}.")
        session.add(
            SftpAccountKey(
                account_id=account_id, key_type=key.get_name(), public_key=key.get_base64(),
                fingerprint=key.fingerprint, comment=comment, created_at=clock.now(),
            )
        )
        session.commit()
    return SftpKeyInfo(username=username, key_type=key.get_name(), fingerprint=key.fingerprint, comment=comment)


def list_sftp_keys(db: Database, username: str) -> list[SftpKeyInfo]:
    """Return the public keys registered for SFTP account ``username``, oldest first.

    Raises:
        AccountError: the account does not exist.
    """
    with db.platform_session() as session:
        account_id = _sftp_account_id(session, username)
        rows = session.scalars(
            select(SftpAccountKey).where(SftpAccountKey.account_id == account_id).order_by(SftpAccountKey.id)
        )
        return [
            SftpKeyInfo(username=username, key_type=row.key_type, fingerprint=row.fingerprint, comment=row.comment)
            for row in rows
        ]


def remove_sftp_key(db: Database, username: str, fingerprint: str) -> None:
    """Remove the key with ``fingerprint`` (``SHA256:...``) from SFTP account ``username``.

    Raises:
        AccountError: the account does not exist or has no key with that fingerprint.
    """
    with db.platform_session() as session:
        account_id = _sftp_account_id(session, username)
        row = session.scalar(
            select(SftpAccountKey).where(
                SftpAccountKey.account_id == account_id, SftpAccountKey.fingerprint == fingerprint
            )
        )
        if row is None:
            raise AccountError(
                f"SFTP account {username!r} has no key {fingerprint!r}; 'bolletta sftp key list' shows its keys."
            )
        session.delete(row)
        session.commit()


def authenticate_sftp_key(db: Database, username: str, key: paramiko.PKey) -> str | None:
    """Return the tenant slug of SFTP account ``username`` if ``key`` is registered for it, else ``None``.

    Only the keys of that one account are searched, so a key registered for another account never
    matches. The caller must still check the client's signature; paramiko does that after this
    returns a tenant.
    """
    with db.platform_session() as session:
        row = session.execute(
            select(SftpAccountKey.key_type, SftpAccountKey.public_key, Tenant.slug, Tenant.status)
            .join(SftpAccount, SftpAccount.id == SftpAccountKey.account_id)
            .join(Tenant, Tenant.id == SftpAccount.tenant_id)
            .where(SftpAccount.username == username, SftpAccountKey.fingerprint == key.fingerprint)
        ).first()
    if row is None:
        return None
    # The fingerprint found the row, and the whole key must match too.
    if row.key_type != key.get_name() or row.public_key != key.get_base64():
        return None
    return row.slug if row.status == "active" else None
