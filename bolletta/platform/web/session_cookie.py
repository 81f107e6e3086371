"""The encrypted session cookie, sent again only when the session data changed.

Litestar's client-side session backend (2.25) adds a ``Set-Cookie`` header to every response of a request
that has a session, even when nothing in it changed. This backend keeps a copy of the data it
loaded and skips the header when the data leaving is equal to it, so a page view that changes
nothing in the session does not rewrite the cookie. The cookie's ``max_age`` therefore counts from
the last change: staff and customer sessions record their activity time in the session, so an
active session still gets a fresh cookie as that time moves.
"""

from __future__ import annotations

import copy
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.types import Empty, Message, ScopeSession

LOADED_KEY = "bolletta.loaded_session"
"""ASGI scope key holding a copy of the session as the request's cookie carried it."""


class ChangedOnlySessionBackend(ClientSideSessionBackend):
    """Client-side session backend that writes the cookie only when the session data changed."""

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        """Load the session from the cookies and keep a deep copy to compare with on the way out."""
        data = await super().load_from_connection(connection)
        connection.scope[LOADED_KEY] = copy.deepcopy(data)  # type: ignore[literal-required]
        return data

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
