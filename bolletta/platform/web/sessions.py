"""The encrypted session cookie, sent again only when the session changed.

Litestar's cookie backend encrypts the session and sends it with every response. A customer page
that changed nothing in the session (same language, activity time recorded less than
:data:`bolletta.platform.portal.access.TOUCH_INTERVAL_SECONDS` ago) then pays for an AES-GCM
encryption and a ``Set-Cookie`` header it does not need; this backend skips both.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.types import Empty, Message, ScopeSession

_LOADED_KEY = "bolletta_session_loaded"


class UnchangedSkippingBackend(ClientSideSessionBackend):
    """The client-side backend, writing the cookie only when the session differs from the one received."""

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope.setdefault("state", {})[_LOADED_KEY] = copy.deepcopy(data)
        return data

    async def store_in_message(self, scope_session: ScopeSession, message: Message,
                               connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        loaded = connection.scope.get("state", {}).get(_LOADED_KEY)
        if scope_session and scope_session is not Empty and loaded and scope_session == loaded:
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class SessionCookieConfig(CookieBackendConfig):
    """:class:`CookieBackendConfig` using :class:`UnchangedSkippingBackend`."""

    _backend_class = UnchangedSkippingBackend
