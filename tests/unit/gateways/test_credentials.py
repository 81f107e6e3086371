"""Gateway secrets at rest: sealed with Fernet, opened after a key rotation, refused when unreadable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from cryptography.fernet import Fernet

from bolletta.gateways.errors import GatewayConfigError
from bolletta.gateways.nexi import NexiGateway
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.payments.credentials import SEALED_PREFIX, open_settings, seal_settings
from bolletta.platform.runtime import Runtime

SETTINGS = {"mode": "classic", "alias": "ALIAS_1", "mac_key": "the-mac-key", "api_key": ""}


@dataclass
class _Settings:
    encryption_keys: list[str] = field(default_factory=list)


@dataclass
class _Runtime:
    settings: _Settings
    secret: str = "m" * 48


def _rt(*keys: str) -> Runtime:
    return cast(Runtime, _Runtime(settings=_Settings(encryption_keys=list(keys))))


def test_secret_fields_sealed() -> None:
    sealed = seal_settings(_rt(), NexiGateway, SETTINGS)

    assert sealed["mac_key"].startswith(SEALED_PREFIX)
    assert "the-mac-key" not in str(sealed)
    assert sealed["alias"] == "ALIAS_1"
    assert sealed["api_key"] == ""
    assert open_settings(_rt(), NexiGateway, sealed) == SETTINGS


def test_sealing_twice_keeps_value() -> None:
    once = seal_settings(_rt(), NexiGateway, SETTINGS)

    assert seal_settings(_rt(), NexiGateway, once) == once


def test_rotation_keeps_old_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = seal_settings(_rt(old), NexiGateway, SETTINGS)

    assert open_settings(_rt(new, old), NexiGateway, sealed)["mac_key"] == "the-mac-key"
    with pytest.raises(ConfigurationError, match="does not decrypt with any key of BOLLETTA_ENCRYPTION_KEYS"):
        open_settings(_rt(new), NexiGateway, sealed)


def test_clear_secret_refused() -> None:
    with pytest.raises(ConfigurationError, match="'mac_key' is stored unencrypted"):
        open_settings(_rt(), NexiGateway, SETTINGS)


def test_invalid_settings_not_sealed() -> None:
    bad: dict[str, Any] = {**SETTINGS, "mode": "telepathy"}

    with pytest.raises(GatewayConfigError, match="invalid settings for gateway 'nexi'"):
        seal_settings(_rt(), NexiGateway, bad)
