"""Per-purpose keys derived from the master secret with HKDF-SHA256.

One master secret (``BOLLETTA_SECRET_KEY``) never signs anything itself: each purpose (sessions,
ticket HMACs, gateway notifications) gets its own key, so a leak of one derived key exposes nothing
else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bolletta.platform.errors import ConfigurationError
from bolletta.platform.settings import Settings

MIN_SECRET_LENGTH = 32
SECRET_FILE_NAME = "secret_key"  # noqa: S105 (a file name, not a secret)

PURPOSE_SESSION = "session-cookie"
PURPOSE_TICKET = "ticket-hmac"
PURPOSE_GATEWAY = "gateway-notification"
PURPOSE_ENCRYPTION = "tenant-secrets"


def derive_key(secret: str, purpose: str, length: int = 32) -> bytes:
    """Derive ``length`` bytes for ``purpose`` from the master ``secret``."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode())
    return hkdf.derive(secret.encode())


def hmac_hex(key: bytes, value: str) -> str:
    """HMAC-SHA256 of ``value`` as 64 hex characters."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def fernet_key(secret: str) -> bytes:
    """Derive a Fernet key (url-safe base64 of 32 bytes) from the master secret."""
    return base64.urlsafe_b64encode(derive_key(secret, PURPOSE_ENCRYPTION))


def resolve_secret(settings: Settings, *, create: bool = False) -> str:
    """Return the master secret from the settings or the data folder's ``secret_key`` file.

    With ``create`` (the demo), a missing secret is generated and written to the data folder with
    mode 0600.

    Raises:
        ConfigurationError: no secret is configured (outside the demo) or it is too short.
    """
    secret = settings.secret_key
    path = settings.data_path / SECRET_FILE_NAME
    if not secret and path.is_file():
        secret = path.read_text(encoding="utf-8").strip()
    if not secret and create:
        secret = secrets.token_urlsafe(48)
        _write_private(path, secret)
    if not secret:
        raise ConfigurationError(
            "BOLLETTA_SECRET_KEY is not set. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and set it."
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"BOLLETTA_SECRET_KEY is {len(secret)} characters long; use at least {MIN_SECRET_LENGTH}."
        )
    return secret


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
