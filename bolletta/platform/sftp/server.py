"""The SFTP inbox server: a listener thread that hands each connection to a paramiko transport."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from pathlib import Path

import paramiko

from bolletta.platform.sftp.auth import PasswordAuthenticator, TenantAuthServer
from bolletta.platform.sftp.filesystem import TenantFileSystem
from bolletta.platform.sftp.host_key import load_or_create_host_key
from bolletta.platform.sftp.layout import InboxLayout
from bolletta.platform.sftp.uploads import UploadCallback

logger = logging.getLogger(__name__)

ACCEPT_POLL_SECONDS = 0.2
"""How often the listener thread checks for :meth:`SftpServer.stop` while no client connects."""
JOIN_TIMEOUT_SECONDS = 5.0
HANDSHAKE_TIMEOUT_SECONDS = 15.0
AUTH_TIMEOUT_SECONDS = 30.0
"""Time a client has to finish logging in after the key exchange."""


class SftpServer:
    """SFTP server that gives each tenant its own area under ``root_dir``.

    ``authenticate(username, password)`` returns the tenant slug of the account, or ``None`` to reject
    the login. ``on_upload(tenant, path, relative_path)`` is called once for each file the client
    opened for writing and then closed with an explicit CLOSE while its session was alive. It runs on
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
    ) -> None:
        self._host = host
        self._requested_port = port
        self._host_key_path = host_key_path
        self._layout = InboxLayout(root_dir)
        self._authenticate = authenticate
        self._on_upload = on_upload

        self._host_key: paramiko.PKey | None = None
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._transports: list[paramiko.Transport] = []
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
        listener.close()

        with self._lock:
            transports, self._transports = self._transports, []
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
            self._open_session(connection, f"{address[0]}:{address[1]}")

    def _open_session(self, connection: socket.socket, peer: str) -> None:
        assert self._host_key is not None
        connection.settimeout(None)
        transport = paramiko.Transport(connection)
        transport.handshake_timeout = HANDSHAKE_TIMEOUT_SECONDS
        transport.banner_timeout = HANDSHAKE_TIMEOUT_SECONDS
        transport.auth_timeout = AUTH_TIMEOUT_SECONDS
        transport.add_server_key(self._host_key)
        transport.set_subsystem_handler(
            "sftp",
            paramiko.SFTPServer,
            TenantFileSystem,
            layout=self._layout,
            on_upload=self._on_upload,
            on_session_started=self._track_session_thread,
        )
        policy = TenantAuthServer(authenticate=self._authenticate, layout=self._layout, peer=peer)
        try:
            # With an event, start_server returns at once and the handshake runs on the transport's
            # own thread, so a slow client does not hold up the listener.
            transport.start_server(event=threading.Event(), server=policy)
        except (paramiko.SSHException, OSError):
            logger.exception("SFTP connection from %s failed to start", peer)
            transport.close()
            return
        with self._lock:
            self._transports = [known for known in self._transports if known.is_alive()]
            self._transports.append(transport)

    def _track_session_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._session_threads = [known for known in self._session_threads if known.is_alive()]
            self._session_threads.append(thread)


def _join(thread: threading.Thread) -> None:
    thread.join(JOIN_TIMEOUT_SECONDS)
    if thread.is_alive():
        logger.warning("SFTP thread %s did not stop within %.0f s", thread.name, JOIN_TIMEOUT_SECONDS)
