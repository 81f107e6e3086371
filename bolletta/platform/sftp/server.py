"""The SFTP inbox server: a listener thread that hands each connection to a paramiko transport."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko

from bolletta.platform.sftp.auth import KeyAuthenticator, PasswordAuthenticator, TenantAuthServer
from bolletta.platform.sftp.filesystem import InboxSftpServer, TenantFileSystem
from bolletta.platform.sftp.host_key import load_or_create_host_key
from bolletta.platform.sftp.layout import InboxLayout
from bolletta.platform.sftp.quota import QuotaLookup
from bolletta.platform.sftp.throttle import LoginThrottle, ThrottleSettings
from bolletta.platform.sftp.uploads import UploadCallback

logger = logging.getLogger(__name__)

ACCEPT_POLL_SECONDS = 0.2
"""How often the listener thread checks for :meth:`SftpServer.stop` while no client connects."""
JOIN_TIMEOUT_SECONDS = 5.0
HANDSHAKE_TIMEOUT_SECONDS = 15.0
AUTH_TIMEOUT_SECONDS = 30.0
"""Default time a client has to log in, counted from the TCP connection."""
IDLE_TIMEOUT_SECONDS = 600.0
"""Default time a logged-in session may go without an SFTP request before the server closes it."""
MAX_WATCH_INTERVAL_SECONDS = 1.0


@dataclass
class SessionClock:
    """When a connection opened and when its client last sent a request, in ``time.monotonic`` seconds."""

    connected_at: float
    last_activity: float

    def touch(self) -> None:
        self.last_activity = time.monotonic()


@dataclass
class _Connection:
    transport: paramiko.Transport
    peer: str
    clock: SessionClock


class SftpServer:
    """SFTP server that gives each tenant its own area under ``root_dir``.

    ``authenticate(username, password)`` returns the tenant slug of the account, or ``None`` to reject
    the login. ``authenticate_key(username, key)`` does the same for a public key, and without it
    only passwords are offered. Failed password logins are throttled per account and per source
    address (see :mod:`bolletta.platform.sftp.throttle`). ``quota_for(tenant)`` returns the bytes a
    tenant's area may hold, or ``None`` for no limit; it is read when a session starts.

    A connection not logged in ``auth_timeout`` seconds after it opened, and a session without an
    SFTP request for ``idle_timeout`` seconds, are closed.

    ``on_upload(tenant, path, relative_path)`` is called once for each file the client
    opened for writing and then closed with an explicit CLOSE while its session was alive, and once
    for each regular file the client renamed (an upload sent to a temporary name and then renamed,
    or renamed while still open, is reported under its new name). It may remove the file: for a
    minute the session still returns the file's attributes for a stat of that name, and a setstat
    or remove of it succeeds. It runs on
    that session's thread before the client receives the reply, so sessions may call it concurrently,
    and a slow callback delays only its own client. An exception from it is logged and the client
    still receives a success reply, because the file is stored.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        host_key_path: Path,
        root_dir: Path,
        authenticate: PasswordAuthenticator,
        on_upload: UploadCallback,
        authenticate_key: KeyAuthenticator | None = None,
        throttle: ThrottleSettings | None = None,
        quota_for: QuotaLookup = lambda tenant: None,
        auth_timeout: float = AUTH_TIMEOUT_SECONDS,
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
    ) -> None:
        if auth_timeout <= 0 or idle_timeout <= 0:
            raise ValueError(f"SFTP timeouts must be positive, not {auth_timeout} and {idle_timeout} s")
        self._host = host
        self._requested_port = port
        self._host_key_path = host_key_path
        self._layout = InboxLayout(root_dir)
        self._authenticate = authenticate
        self._authenticate_key = authenticate_key
        self._on_upload = on_upload
        self._throttle = LoginThrottle(throttle)
        self._quota_for = quota_for
        self._commit_lock = threading.Lock()
        self._auth_timeout = auth_timeout
        self._idle_timeout = idle_timeout
        self._watch_interval = min(MAX_WATCH_INTERVAL_SECONDS, auth_timeout / 4, idle_timeout / 4)
        self._watchdog_thread: threading.Thread | None = None

        self._host_key: paramiko.PKey | None = None
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[_Connection] = []
        self._session_threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        """The TCP port the server listens on; known only after :meth:`start`."""
        if self._listener is None:
            raise RuntimeError("the SFTP server is not started")
        port: int = self._listener.getsockname()[1]
        return port

    def start(self) -> None:
        """Load or create the host key, bind the port and accept connections on a background thread.

        Raises:
            ConfigurationError: the host key file cannot be used.
            OSError: the port cannot be bound.
            RuntimeError: the server was already started.
        """
        if self._listener is not None:
            raise RuntimeError("the SFTP server is already started")
        self._host_key = load_or_create_host_key(self._host_key_path)
        self._layout.root.mkdir(parents=True, exist_ok=True)

        listener = socket.create_server((self._host, self._requested_port))
        listener.settimeout(ACCEPT_POLL_SECONDS)
        self._listener = listener
        self._stopping.clear()
        self._accept_thread = threading.Thread(target=self._accept_loop, name="sftp-accept", daemon=True)
        self._accept_thread.start()
        self._watchdog_thread = threading.Thread(target=self._watch_loop, name="sftp-watchdog", daemon=True)
        self._watchdog_thread.start()
        logger.info("SFTP server listening on %s:%d, host key %s %s", self._host, self.port,
                    self._host_key.get_name(), self._host_key.fingerprint)

    def stop(self) -> None:
        """Close the listener and every session, and wait for their threads; safe to call twice.

        Uploads still open when their session closes here are aborted, as after a dropped connection.
        """
        listener = self._listener
        if listener is None:
            return
        self._stopping.set()
        with contextlib.suppress(OSError):
            # On Linux this wakes the blocked accept() at once instead of after the next poll.
            listener.shutdown(socket.SHUT_RDWR)
        if self._accept_thread is not None:
            self._accept_thread.join(JOIN_TIMEOUT_SECONDS)
        if self._watchdog_thread is not None:
            self._watchdog_thread.join(JOIN_TIMEOUT_SECONDS)
        listener.close()

        with self._lock:
            transports = [connection.transport for connection in self._connections]
            self._connections = []
        for transport in transports:
            transport.close()
        for transport in transports:
            _join(transport)
        with self._lock:
            session_threads, self._session_threads = self._session_threads, []
        for thread in session_threads:
            _join(thread)

        self._listener = None
        self._accept_thread = None
        self._watchdog_thread = None
        logger.info("SFTP server stopped")

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                connection, address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                logger.exception("SFTP listener failed to accept a connection")
                self._stopping.wait(ACCEPT_POLL_SECONDS)
                continue
            self._open_session(connection, address[0], f"{address[0]}:{address[1]}")

    def _open_session(self, connection: socket.socket, address: str, peer: str) -> None:
        assert self._host_key is not None
        connection.settimeout(None)
        now = time.monotonic()
        session_clock = SessionClock(connected_at=now, last_activity=now)
        transport = paramiko.Transport(connection)
        transport.handshake_timeout = HANDSHAKE_TIMEOUT_SECONDS
        transport.banner_timeout = HANDSHAKE_TIMEOUT_SECONDS
        transport.add_server_key(self._host_key)
        transport.set_subsystem_handler(
            "sftp",
            InboxSftpServer,
            TenantFileSystem,
            layout=self._layout,
            on_upload=self._on_upload,
            on_session_started=self._track_session_thread,
            on_activity=session_clock.touch,
            quota_for=self._quota_for,
            commit_lock=self._commit_lock,
        )
        policy = TenantAuthServer(
            authenticate=self._authenticate,
            authenticate_key=self._authenticate_key,
            throttle=self._throttle,
            layout=self._layout,
            transport=transport,
            address=address,
            peer=peer,
            on_login=session_clock.touch,
        )
        try:
            # With an event, start_server returns at once and the handshake runs on the transport's
            # own thread, so a slow client does not hold up the listener.
            transport.start_server(event=threading.Event(), server=policy)
        except (paramiko.SSHException, OSError):
            logger.exception("SFTP connection from %s failed to start", peer)
            transport.close()
            return
        with self._lock:
            self._connections = [known for known in self._connections if known.transport.is_alive()]
            self._connections.append(_Connection(transport=transport, peer=peer, clock=session_clock))

    def _watch_loop(self) -> None:
        """Close connections that did not log in within the auth timeout or stayed idle too long.

        paramiko (5.1) applies ``Transport.auth_timeout`` only on the client side, so the server
        enforces its own.
        """
        while not self._stopping.wait(self._watch_interval):
            with self._lock:
                connections = list(self._connections)
            now = time.monotonic()
            for connection in connections:
                reason = self._expiry_reason(connection, now)
                if reason is not None:
                    logger.warning("SFTP connection from %s closed: %s", connection.peer, reason)
                    connection.transport.close()

    def _expiry_reason(self, connection: _Connection, now: float) -> str | None:
        transport = connection.transport
        if not transport.is_active():
            return None
        if not transport.is_authenticated():
            if now - connection.clock.connected_at > self._auth_timeout:
                return f"not logged in within {self._auth_timeout:g} s"
            return None
        if now - connection.clock.last_activity > self._idle_timeout:
            return f"idle for more than {self._idle_timeout:g} s"
        return None

    def _track_session_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._session_threads = [known for known in self._session_threads if known.is_alive()]
            self._session_threads.append(thread)


def _join(thread: threading.Thread) -> None:
    thread.join(JOIN_TIMEOUT_SECONDS)
    if thread.is_alive():
        logger.warning("SFTP thread %s did not stop within %.0f s", thread.name, JOIN_TIMEOUT_SECONDS)
