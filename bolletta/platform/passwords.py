"""Argon2id password hashing for staff and SFTP logins."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when the username does not exist, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` in PHC string form."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash still spends one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
