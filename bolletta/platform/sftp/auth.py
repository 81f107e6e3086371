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
from bolletta.platform.sftp.throttle import LoginThrottle

logger = logging.getLogger(__name__)

PasswordAuthenticator = Callable[[str, str], str | None]
"""Return the tenant slug an SFTP account belongs to, or ``None`` when the password is wrong."""
KeyAuthenticator = Callable[[str, paramiko.PKey], str | None]
"""Return the tenant slug of the account if the public key is registered for it, else ``None``."""


class TenantAuthServer(paramiko.ServerInterface):
    """paramiko's server policy for one connection: who may log in, and that only SFTP is offered.

    The tenant comes from the authenticated account on the server side, never from anything else the
    client sends. Password logins pass through ``throttle``. Public-key logins are offered only when
    ``authenticate_key`` is set, and they are not throttled, because a private key cannot be guessed
    and a lock-out would let anyone block a utility that logs in by key.
    """

    def __init__(
        self,
        *,
        authenticate: PasswordAuthenticator,
        authenticate_key: KeyAuthenticator | None = None,
        throttle: LoginThrottle,
        layout: InboxLayout,
        transport: paramiko.Transport,
        address: str,
        peer: str,
        on_login: Callable[[], None] = lambda: None,
    ) -> None:
        self._authenticate = authenticate
        self._authenticate_key = authenticate_key
        self._throttle = throttle
        self._layout = layout
        self._transport = transport
        self._address = address
        self._peer = peer
        self._on_login = on_login
        self._key_login: tuple[str, str, str] | None = None
        """User name, tenant and key fingerprint of a key accepted before its signature was checked."""
        self.tenant: str | None = None
        """Slug of the tenant the connection logged in as; ``None`` until authentication succeeds."""
        self.area: Path | None = None
        """The tenant's area folder, created at login."""

    def get_allowed_auths(self, username: str) -> str:
        return "publickey,password" if self._authenticate_key is not None else "password"

    def check_auth_password(self, username: str, password: str) -> int:
        locked_until = self._throttle.locked_until(username, self._address)
        if locked_until is not None:
            logger.warning(
                "SFTP login rejected for user %r from %s: too many failed logins for the account or address; "
                "password not checked, retry after %s",
                username, self._peer, locked_until.isoformat(timespec="seconds"),
            )
            return AUTH_FAILED
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
            self._throttle.record_failure(username, self._address)
            logger.warning("SFTP login failed for user %r from %s: wrong user name or password", username,
                           self._peer)
            return AUTH_FAILED
        self._throttle.record_success(username)
        return self._accept(username, tenant, method="password")

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        # paramiko (5.1, AuthHandler) calls this before it checks the client's signature, and also
        # for a client that only asks whether a key would be accepted. So the login is completed in
        # check_channel_request, once paramiko reports the connection authenticated.
        if self._authenticate_key is None:
            return AUTH_FAILED
        try:
            tenant = self._authenticate_key(username, key)
        except Exception:
            logger.exception(
                "SFTP login failed for user %r from %s with key %s: the authenticate callback raised",
                username, self._peer, key.fingerprint,
            )
            return AUTH_FAILED
        if tenant is None:
            logger.warning("SFTP login failed for user %r from %s: key %s %s is not registered for the account",
                           username, self._peer, key.get_name(), key.fingerprint)
            return AUTH_FAILED
        self._key_login = (username, tenant, key.fingerprint)
        return AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if self.tenant is None:
            self._complete_key_login()
        if kind == "session" and self.tenant is not None:
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def _complete_key_login(self) -> None:
        if self._key_login is None or not self._transport.is_authenticated():
            return
        username, tenant, fingerprint = self._key_login
        if self._transport.get_username() != username:
            return
        self._accept(username, tenant, method=f"public key {fingerprint}")

    def _accept(self, username: str, tenant: str, *, method: str) -> int:
        try:
            area = self._layout.create(tenant)
        except (InvalidTenantSlug, OSError):
            logger.exception("SFTP login failed for user %r from %s: cannot open the area of tenant %r",
                             username, self._peer, tenant)
            return AUTH_FAILED
        self.tenant = tenant
        self.area = area
        self._on_login()
        logger.info(
            "SFTP login succeeded for user %r (tenant %s) from %s by %s", username, tenant, self._peer, method
        )
        return AUTH_SUCCESSFUL
