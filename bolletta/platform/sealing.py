"""Secrets kept in the database, encrypted with Fernet under the platform's encryption keys.

The keys are ``BOLLETTA_ENCRYPTION_KEYS`` (newest first, so a rotation leaves older values readable),
else one key derived from the master secret.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet

from bolletta.platform import keys
from bolletta.platform.runtime import Runtime


def _cipher(rt: Runtime) -> MultiFernet:
    configured = [key.encode() for key in rt.settings.encryption_keys if key]
    return MultiFernet([Fernet(key) for key in configured or [keys.fernet_key(rt.secret)]])


def seal(rt: Runtime, value: str) -> str:
    """Return ``value`` encrypted with the newest key."""
    return _cipher(rt).encrypt(value.encode()).decode()


def unseal(rt: Runtime, sealed: str) -> str:
    """Return the value :func:`seal` encrypted; raises ``cryptography.fernet.InvalidToken`` on a bad token."""
    return _cipher(rt).decrypt(sealed.encode()).decode()
