"""SSH authentication and channel policy for one SFTP connection."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)

from bolletta.platform.sftp.layout import InboxLayout, InvalidTenantSlug

logger = logging.getLogger(__name__)

PasswordAuthenticator = Callable[[str, str], str | None]
"""Return the tenant slug an SFTP account belongs to, or ``None`` when the password is wrong."""


class TenantAuthServer(paramiko.ServerInterface):
    """paramiko's server policy for one connection: who may log in, and that only SFTP is offered.

    The tenant comes from the authenticated account on the server side, never from anything else the
    client sends. Only password login is offered for now.
    """

    # TODO: public-key login needs an ``authenticate_key`` callback, "publickey" in
    # get_allowed_auths and a check_auth_publickey that passes its result to _accept.

    def __init__(self, *, authenticate: PasswordAuthenticator, layout: InboxLayout, peer: str) -> None:
        self._authenticate = authenticate
        self._layout = layout
        self._peer = peer
        self.tenant: str | None = None
        """Slug of the tenant the connection logged in as; ``None`` until authentication succeeds."""
        self.area: Path | None = None
        """The tenant's area folder, created at login."""

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        try:
            tenant = self._authenticate(username, password)
        except Exception:
            logger.exception(
                "SFTP login failed for user %r from %s: the authenticate callback raised",
                username,
                self._peer,
            )
            return AUTH_FAILED
        if tenant is None:
            logger.warning("SFTP login failed for user %r from %s: wrong user name or password", username,
                           self._peer)
            return AUTH_FAILED
        return self._accept(username, tenant, method="password")

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session" and self.tenant is not None:
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def _accept(self, username: str, tenant: str, *, method: str) -> int:
        try:
            area = self._layout.create(tenant)
        except (InvalidTenantSlug, OSError):
            logger.exception("SFTP login failed for user %r from %s: cannot open the area of tenant %r",
                             username, self._peer, tenant)
            return AUTH_FAILED
        self.tenant = tenant
        self.area = area
        logger.info(
            "SFTP login succeeded for user %r (tenant %s) from %s by %s", username, tenant, self._peer, method
        )
        return AUTH_SUCCESSFUL
