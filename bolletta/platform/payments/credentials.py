"""Tenant gateway credentials, encrypted at rest with Fernet.

The fields a plugin lists in ``secret_fields`` are stored as ``enc:v1:<Fernet token>`` inside the
tenant's settings; every other field stays readable. The keys come from
``BOLLETTA_ENCRYPTION_KEYS`` (newest first, so older keys still decrypt after a rotation), else one
key derived from the master secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bolletta.gateways.base import Gateway
from bolletta.platform import keys
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.runtime import Runtime

SEALED_PREFIX = "enc:v1:"


def _cipher(rt: Runtime) -> MultiFernet:
    configured = [key.encode() for key in rt.settings.encryption_keys if key]
    return MultiFernet([Fernet(key) for key in configured or [keys.fernet_key(rt.secret)]])


def seal_settings(rt: Runtime, plugin: type[Gateway], data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``data`` against the plugin's settings and return it with secret fields encrypted.

    Raises:
        GatewayConfigError: the settings do not validate.
    """
    plugin.settings_from_dict(data)
    cipher = _cipher(rt)
    sealed = dict(data)
    for name in plugin.secret_fields:
        value = sealed.get(name)
        if isinstance(value, str) and value and not value.startswith(SEALED_PREFIX):
            sealed[name] = SEALED_PREFIX + cipher.encrypt(value.encode()).decode()
    return sealed


def open_settings(rt: Runtime, plugin: type[Gateway], data: Mapping[str, Any]) -> dict[str, Any]:
    """Return stored settings with their secret fields decrypted.

    Raises:
        ConfigurationError: a secret field is stored in clear, or no configured key decrypts it.
    """
    cipher = _cipher(rt)
    opened = dict(data)
    for name in plugin.secret_fields:
        value = opened.get(name)
        if not isinstance(value, str) or not value:
            continue
        if not value.startswith(SEALED_PREFIX):
            raise ConfigurationError(
                f"gateway {plugin.id!r}: secret field {name!r} is stored unencrypted; save the gateway "
                "settings again through the platform so they are encrypted"
            )
        try:
            opened[name] = cipher.decrypt(value[len(SEALED_PREFIX):].encode()).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                f"gateway {plugin.id!r}: secret field {name!r} does not decrypt with any key of "
                "BOLLETTA_ENCRYPTION_KEYS; add the key it was saved with"
            ) from exc
    return opened
