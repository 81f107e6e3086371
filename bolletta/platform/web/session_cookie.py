"""The encrypted session cookie, sent again only when the session data changed.

Litestar's client-side session backend (2.25) adds a ``Set-Cookie`` header to every response of a request
that has a session, even when nothing in it changed. This backend keeps a copy of the data it
loaded and skips the header when the data leaving is equal to it, so a page view that changes
nothing in the session does not rewrite the cookie. The cookie's ``max_age`` therefore counts from
the last change: staff and customer sessions record their activity time in the session, so an
active session still gets a fresh cookie as that time moves.

Each process also keeps the decrypted content of the cookies it saw last (``DECRYPTED_CACHE_SIZE``
of them), keyed by the cookie value as the browser sent it. A customer reading their bill sends the
same cookie with every page, and decrypting it again cost about a tenth of the CPU time of a
summary page. The expiry sealed in the cookie is still checked on every request, and a cookie
value that differs by one byte is a different key, so the cache accepts nothing the decryption
would refuse.
"""

from __future__ import annotations

import binascii
import threading
import time
from base64 import b64decode
from collections import OrderedDict
from typing import Any

from cryptography.exceptions import InvalidTag
from litestar.connection import ASGIConnection
from litestar.exceptions import SerializationException
from litestar.middleware.session.client_side import AAD, NONCE_SIZE, ClientSideSessionBackend, CookieBackendConfig
from litestar.serialization import decode_json
from litestar.types import Empty, Message, ScopeSession

LOADED_KEY = "bolletta.loaded_session"
"""ASGI scope key holding a copy of the session as the request's cookie carried it."""
DECRYPTED_CACHE_SIZE = 4096
"""Cookie values whose decrypted content each process keeps, least recently used dropped first."""


class ChangedOnlySessionBackend(ClientSideSessionBackend):
    """Client-side session backend that writes the cookie only when the session data changed."""

    def __init__(self, config: CookieBackendConfig) -> None:
        super().__init__(config)
        self._decrypted: OrderedDict[bytes, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        """Load the session from the cookies and keep a copy to compare with on the way out."""
        if not (cookie_keys := self.get_cookie_keys(connection)):
            return {}
        value = b"".join(connection.cookies[key].encode("utf-8") for key in cookie_keys)
        plaintext = self._plaintext(value)
        if plaintext is None:
            return {}
        connection.scope[LOADED_KEY] = self.deserialize_data(plaintext)  # type: ignore[literal-required]
        return self.deserialize_data(plaintext)

    def _plaintext(self, value: bytes) -> bytes | None:
        """Return the decrypted session in ``value`` (the joined cookie values), or None if expired or not genuine."""
        with self._lock:
            cached = self._decrypted.get(value)
            if cached is not None:
                self._decrypted.move_to_end(value)
        if cached is None:
            cached = self._decrypt(value)
            if cached is None:
                return None
            with self._lock:
                self._decrypted[value] = cached
                if len(self._decrypted) > DECRYPTED_CACHE_SIZE:
                    self._decrypted.popitem(last=False)
        expires_at, plaintext = cached
        if expires_at <= round(time.time()):
            return None
        return plaintext

    def _decrypt(self, value: bytes) -> tuple[int, bytes] | None:
        """Decrypt the cookie value as Litestar's ``load_data`` does; return its expiry time and content."""
        try:
            decoded = b64decode(value, validate=True)  # a character outside base64 is a forged cookie
            aad_starts_from = decoded.find(AAD)
            if aad_starts_from == -1:
                return None
            associated_data = decoded[aad_starts_from:].replace(AAD, b"")
            expires_at = decode_json(value=associated_data)["expires_at"]
            nonce, encrypted = decoded[:NONCE_SIZE], decoded[NONCE_SIZE:aad_starts_from]
            plaintext = self.aesgcm.decrypt(nonce, encrypted, associated_data=associated_data)
        except (InvalidTag, binascii.Error, SerializationException, ValueError, KeyError, TypeError):
            return None
        if not isinstance(expires_at, int):
            return None
        return expires_at, plaintext

    async def store_in_message(self, scope_session: ScopeSession, message: Message,
                               connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Write the session cookies, unless the session is non-empty and equal to the one loaded."""
        loaded = connection.scope.get(LOADED_KEY)
        if scope_session and scope_session is not Empty and loaded and scope_session == loaded:
            return
        await super().store_in_message(scope_session, message, connection)


class ChangedOnlyCookieConfig(CookieBackendConfig):
    """Configuration of the encrypted session cookie, with :class:`ChangedOnlySessionBackend`."""

    _backend_class = ChangedOnlySessionBackend
