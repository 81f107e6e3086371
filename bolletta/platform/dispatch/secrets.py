"""Encrypting the secret fields of channel settings at rest, and never showing them again.

A secret field (a plugin's ``secret_fields``) is stored as ``{"encrypted": "<Fernet token>"}``
under a key derived from the master secret; earlier master secrets still decrypt. The settings
form shows a secret field empty, and an empty submission keeps the stored value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bolletta.platform import keys
from bolletta.platform.errors import ConfigurationError

ENCRYPTED = "encrypted"


def _fernet(rt: Any) -> MultiFernet:
    secrets = [rt.secret, *getattr(rt, "previous_secrets", [])]
    return MultiFernet([Fernet(keys.fernet_key(secret)) for secret in secrets])


def conceal(rt: Any, values: Mapping[str, Any], secret_fields: Iterable[str],
            stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return ``values`` with every secret field encrypted; an empty secret keeps the ``stored`` one."""
    result = dict(values)
    fernet = _fernet(rt)
    for name in secret_fields:
        value = result.get(name)
        if isinstance(value, dict) and ENCRYPTED in value:
            continue
        if not value:
            if stored and name in stored:
                result[name] = stored[name]
            else:
                result.pop(name, None)
            continue
        result[name] = {ENCRYPTED: fernet.encrypt(str(value).encode()).decode()}
    return result


def reveal(rt: Any, values: Mapping[str, Any], secret_fields: Iterable[str]) -> dict[str, Any]:
    """Return ``values`` with encrypted secret fields decrypted, for the plugin's ``Settings``.

    Raises:
        ConfigurationError: a secret does not decrypt with the current or an earlier master secret.
    """
    result = dict(values)
    fernet = None
    for name in secret_fields:
        value = result.get(name)
        if isinstance(value, dict) and ENCRYPTED in value:
            fernet = fernet or _fernet(rt)
            try:
                result[name] = fernet.decrypt(str(value[ENCRYPTED]).encode()).decode()
            except InvalidToken as exc:
                raise ConfigurationError(f"stored secret {name!r} does not decrypt with any master secret") from exc
    return result


def masked(values: Mapping[str, Any], secret_fields: Iterable[str]) -> dict[str, Any]:
    """Return ``values`` for display: each secret field shown only as set or unset."""
    result = dict(values)
    for name in secret_fields:
        result[name] = "•••••• (set)" if result.get(name) else ""
    return result
