"""The process's configured parts: settings, database, storage and derived keys.

The CLI, the demo and the tests call :func:`configure` once at start; web handlers and actors read
:func:`current`. Keeping one object avoids passing settings through every actor message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bolletta.platform import keys
from bolletta.platform.db.database import Database
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.settings import Settings
from bolletta.platform.storage import Storage, storage_from_settings


@dataclass
class Runtime:
    """Everything a request or an actor needs besides its own arguments."""

    settings: Settings
    db: Database
    storage: Storage
    secret: str
    previous_secrets: list[str] = field(default_factory=list)

    @property
    def ticket_key(self) -> bytes:
        """Key of the ticket token HMAC."""
        return keys.derive_key(self.secret, keys.PURPOSE_TICKET)

    @property
    def previous_ticket_keys(self) -> list[bytes]:
        """Ticket keys of earlier master secrets, still accepted for lookup."""
        return [keys.derive_key(secret, keys.PURPOSE_TICKET) for secret in self.previous_secrets]

    @property
    def session_key(self) -> bytes:
        """Key of the encrypted session cookie."""
        return keys.derive_key(self.secret, keys.PURPOSE_SESSION)

    def gateway_key(self, tenant: str, plugin_id: str) -> bytes:
        """Key that signs a gateway's notifications for one tenant (the sandbox gateway uses it)."""
        return keys.derive_key(self.secret, f"{keys.PURPOSE_GATEWAY}:{tenant}:{plugin_id}")


_current: Runtime | None = None


def configure(settings: Settings, *, create_secret: bool = False) -> Runtime:
    """Build the runtime from ``settings`` and make it current."""
    global _current
    secret = keys.resolve_secret(settings, create=create_secret)
    runtime = Runtime(
        settings=settings,
        db=Database(settings),
        storage=storage_from_settings(settings),
        secret=secret,
        previous_secrets=list(settings.previous_secret_keys),
    )
    _current = runtime
    return runtime


def current() -> Runtime:
    """The runtime set by :func:`configure`."""
    if _current is None:
        raise ConfigurationError("The runtime is not configured: call runtime.configure() at start.")
    return _current
