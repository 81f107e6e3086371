"""The login secrets of a tenant's remote SFTP server (``sftp_poll``), encrypted at rest.

``password`` and ``private_key`` are stored as ``enc:v1:<Fernet token>``, the format of the gateway
credentials. :mod:`bolletta.platform.sealing` encrypts them under ``BOLLETTA_ENCRYPTION_KEYS``, else
under a key derived from the master secret. The keys are listed newest first, so a value encrypted
under an older key still decrypts after a rotation. Every writer of ``sftp_poll`` seals before
saving. Only the poller, the settings editor's checks and ``bolletta tenant settings set`` (to reject
a token no key decrypts) decrypt them.

A value without the prefix was stored in clear by a version before this encryption. It is used as
it is and sealed at the next save of the SFTP settings. A data migration could not seal it: the keys
are runtime settings that Alembic migrations do not load, so it would seal under whatever key its
environment happened to have.
"""

from __future__ import annotations

import msgspec
from cryptography.fernet import InvalidToken

from bolletta.platform.errors import ConfigurationError
from bolletta.platform.payments.credentials import SEALED_PREFIX
from bolletta.platform.runtime import Runtime
from bolletta.platform.sealing import seal, unseal
from bolletta.tenants.config import SftpPollSettings, TenantConfig

SECRET_FIELDS = ("password", "private_key")
"""Fields of :class:`SftpPollSettings` stored encrypted."""


class UndecryptableSecret(ConfigurationError):
    """Raised when a stored secret does not decrypt with any configured key."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field
        """The secret field, ``password`` or ``private_key``."""


def is_sealed(value: str) -> bool:
    """Return whether ``value`` is an encrypted secret rather than a clear one."""
    return value.startswith(SEALED_PREFIX)


def seal_login(rt: Runtime, settings: SftpPollSettings) -> SftpPollSettings:
    """Return ``settings`` with each clear, non-empty secret field encrypted; sealed ones stay as they are."""
    changes = {name: SEALED_PREFIX + seal(rt, value) for name in SECRET_FIELDS
               if (value := getattr(settings, name)) and not is_sealed(value)}
    return msgspec.structs.replace(settings, **changes)


def open_login(rt: Runtime, settings: SftpPollSettings) -> SftpPollSettings:
    """Return ``settings`` with its secret fields decrypted; a clear value is returned unchanged.

    Raises:
        UndecryptableSecret: a secret does not decrypt with any configured key.
    """
    changes = {name: _open_value(rt, name, value) for name in SECRET_FIELDS
               if is_sealed(value := getattr(settings, name))}
    return msgspec.structs.replace(settings, **changes)


def sealed_config(rt: Runtime, config: TenantConfig) -> TenantConfig:
    """Return ``config`` with the secrets of its ``sftp_poll`` settings encrypted, ready to be saved."""
    if config.sftp_poll is None:
        return config
    return msgspec.structs.replace(config, sftp_poll=seal_login(rt, config.sftp_poll))


def clear_fields(settings: SftpPollSettings) -> list[str]:
    """List the secret fields of ``settings`` still stored in clear by an earlier version."""
    return [name for name in SECRET_FIELDS if (value := getattr(settings, name)) and not is_sealed(value)]


def _open_value(rt: Runtime, name: str, value: str) -> str:
    try:
        return unseal(rt, value[len(SEALED_PREFIX):])
    except InvalidToken as exc:
        raise UndecryptableSecret(
            f"sftp_poll.{name} does not decrypt with any key of BOLLETTA_ENCRYPTION_KEYS (or the master "
            "secret when none is set); add the key it was saved with, or enter the secret again",
            name,
        ) from exc
