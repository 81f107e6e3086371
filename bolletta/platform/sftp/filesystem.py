"""The file operations one SFTP session may run, confined to its tenant's area."""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import paramiko
from paramiko.sftp import SFTP_OK, SFTP_OP_UNSUPPORTED, SFTP_PERMISSION_DENIED

from bolletta.platform.sftp.area import AreaPathError, normalize_client_path, resolve_in_area, to_client_path
from bolletta.platform.sftp.auth import TenantAuthServer
from bolletta.platform.sftp.handles import ReadHandle, UploadHandle
from bolletta.platform.sftp.layout import InboxLayout
from bolletta.platform.sftp.quota import AreaQuota, QuotaExceeded, QuotaLookup
from bolletta.platform.sftp.taken import TakenFiles
from bolletta.platform.sftp.uploads import (
    UploadCallback,
    log_aborted_upload,
    move_upload_into_place,
    report_upload,
)

logger = logging.getLogger(__name__)

Result = TypeVar("Result")

MODIFYING_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
"""Open flags that can change a file. paramiko's client sends ``O_CREAT | O_EXCL`` alone for mode "x"."""
DIR_MODE = 0o700


class TenantFileSystem(paramiko.SFTPServerInterface):
    """paramiko's file-system interface for one session, with the tenant's area as ``/``.

    paramiko (5.1, ``SFTPServer``) runs every request of a session, and then :meth:`session_ended`
    and the closing of the handles left open, on the session's one thread. So an upload the client closed is committed
    before the session can end, and an upload still open when it ends is always aborted.
    Symbolic links are neither created, read nor followed.

    ``on_upload`` runs for each upload the client closed, and for each regular file the client
    renamed, because clients that upload to a temporary name (``a.zip.part``, ``a.zip.filepart``)
    complete the upload with the rename. Renaming a file still open for writing moves the upload:
    it is stored under the new name, and reported, when the client closes it.
    """

    def __init__(
        self,
        server: TenantAuthServer,
        *,
        layout: InboxLayout,
        on_upload: UploadCallback,
        on_session_started: Callable[[threading.Thread], None],
        on_activity: Callable[[], None] = lambda: None,
        quota_for: QuotaLookup = lambda tenant: None,
        commit_lock: threading.Lock | None = None,
    ) -> None:
        super().__init__(server)
        if server.tenant is None or server.area is None:
            raise RuntimeError("SFTP session started before authentication")
        self._tenant = server.tenant
        self._area = server.area
        self._partial_dir = layout.partial(server.tenant)
        self._on_upload = on_upload
        self._on_session_started = on_session_started
        self._on_activity = on_activity
        self._commit_lock = commit_lock or threading.Lock()
        self._open_uploads: set[UploadHandle] = set()
        self._taken = TakenFiles()
        self.failure_detail: str | None = None
        """Message for the next failure status sent to the client, set when an upload is rejected."""

        limit = quota_for(server.tenant)
        self._quota = None if limit is None else AreaQuota(
            tenant=server.tenant, limit_bytes=limit, area=self._area, partial_dir=self._partial_dir
        )

    def session_started(self) -> None:
        self._on_session_started(threading.current_thread())

    def session_ended(self) -> None:
        # paramiko closes the handles left open right after this returns, and such a close must
        # not count as a completed upload.
        for handle in self._open_uploads:
            handle.abort()

    def canonicalize(self, path: str) -> str:
        self._on_activity()
        try:
            return to_client_path(normalize_client_path(path))
        except AreaPathError:
            # Like a chroot, ".." at the top stays at the top. File operations reject such paths.
            return "/"

    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> paramiko.SFTPHandle | int:
        if flags & MODIFYING_FLAGS:
            return self._guard("open for writing", path, lambda: self._open_upload(path, flags))
        return self._guard("open", path, lambda: ReadHandle(self._resolve(path), on_activity=self._on_activity))

    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes] | int:
        return self._guard("list", path, lambda: self._list(self._resolve(path)))

    def stat(self, path: str) -> paramiko.SFTPAttributes | int:
        return self._guard("stat", path, lambda: self._stat(path))

    def lstat(self, path: str) -> paramiko.SFTPAttributes | int:
        # The resolved path contains no links, so lstat and stat agree.
        return self.stat(path)

    def remove(self, path: str) -> int:
        return self._guard("remove", path, lambda: self._remove(path))

    def rename(self, oldpath: str, newpath: str) -> int:
        return self._guard("rename", f"{oldpath} -> {newpath}", lambda: self._rename(oldpath, newpath, True))

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        return self._guard("rename", f"{oldpath} -> {newpath}", lambda: self._rename(oldpath, newpath, False))

    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        return self._guard("mkdir", path, lambda: self._mkdir(path))

    def rmdir(self, path: str) -> int:
        return self._guard("rmdir", path, lambda: self._rmdir(path))

    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        # Permissions, owners and times stay as the server set them, so the request only has to
        # name an existing path in the area, or a file this session completed a moment ago.
        return self._guard("setstat", path, lambda: self._check_exists(path))

    def symlink(self, target_path: str, path: str) -> int:
        logger.warning("SFTP symlink rejected: tenant %s, link %r to %r", self._tenant, path, target_path)
        return SFTP_OP_UNSUPPORTED

    def readlink(self, path: str) -> str | int:
        return SFTP_OP_UNSUPPORTED

    def _resolve(self, path: str) -> Path:
        return resolve_in_area(self._area, path)

    def _resolve_below_root(self, path: str) -> Path:
        resolved = self._resolve(path)
        if resolved == Path(os.path.realpath(self._area)):
            raise AreaPathError(f"path {path!r} is the area root, which cannot be removed or renamed")
        return resolved

    def _open_upload(self, path: str, flags: int) -> UploadHandle:
        target = self._resolve(path)
        self._taken.forget(_relative(path))
        handle = UploadHandle(
            client_path=path,
            target=target,
            flags=flags,
            partial_dir=self._partial_dir,
            commit=self._commit,
            discard=self._discard,
            size_limit=self._size_limit_for(target),
            reject=self._set_failure_detail,
            on_activity=self._on_activity,
        )
        self._open_uploads.add(handle)
        return handle

    def _size_limit_for(self, target: Path) -> Callable[[int], QuotaExceeded | None]:
        """Return the check an upload to ``target`` runs on its size before each write."""
        quota = self._quota
        if quota is None:
            return lambda size: None
        # Counted once when the file is opened, with the other uploads in progress. Uploads running
        # at the same time can pass this check together, so the commit checks the quota again.
        used = quota.used_bytes(excluding=(target,))

        def check(size: int) -> QuotaExceeded | None:
            return quota.exceeded(used=used, size=size) if used + size > quota.limit_bytes else None

        return check

    def _commit(self, handle: UploadHandle, staged: Path) -> None:
        self._open_uploads.discard(handle)
        try:
            with self._commit_lock:
                self._check_quota_on_commit(handle, staged)
                target, relative = move_upload_into_place(
                    area=self._area, client_path=handle.client_path, staged=staged
                )
                self._taken.remember(relative, paramiko.SFTPAttributes.from_stat(os.stat(target)))
        except QuotaExceeded as error:
            self._set_failure_detail(error.message)
            logger.warning("SFTP upload rejected on close: tenant %s, file %r: %s", self._tenant,
                           handle.client_path, error)
            raise
        except (AreaPathError, OSError):
            # Raising from a handle's close makes paramiko (5.1) reply to the CLOSE with a failure
            # status, so the client learns that the upload was not stored.
            logger.exception(
                "SFTP upload failed on close: tenant %s, file %r", self._tenant, handle.client_path
            )
            raise
        report_upload(tenant=self._tenant, target=target, relative=relative, on_upload=self._on_upload)

    def _check_quota_on_commit(self, handle: UploadHandle, staged: Path) -> None:
        # Only stored files count here, so of two uploads that together pass the quota the one
        # closed first is kept.
        if self._quota is None:
            return
        target = self._resolve(handle.client_path)
        size = os.stat(staged).st_size
        used = self._quota.used_bytes(excluding=(target,), with_uploads=False)
        if used + size > self._quota.limit_bytes:
            raise self._quota.exceeded(used=used, size=size)

    def _discard(self, handle: UploadHandle) -> None:
        self._open_uploads.discard(handle)
        if handle.rejection is not None:
            logger.warning("SFTP upload rejected: tenant %s, file %r: %s", self._tenant, handle.client_path,
                           handle.rejection)
            return
        log_aborted_upload(
            tenant=self._tenant, client_path=handle.client_path, bytes_written=handle.bytes_written
        )

    def _set_failure_detail(self, message: str) -> None:
        self.failure_detail = message

    def _stat(self, path: str) -> paramiko.SFTPAttributes:
        resolved = self._resolve(path)
        try:
            return paramiko.SFTPAttributes.from_stat(os.stat(resolved))
        except FileNotFoundError:
            taken = self._taken.recall(_relative(path))
            if taken is None:
                raise
            return taken

    def _check_exists(self, path: str) -> int:
        self._stat(path)
        return SFTP_OK

    def _remove(self, path: str) -> int:
        resolved = self._resolve_below_root(path)
        try:
            os.unlink(resolved)
        except FileNotFoundError:
            # A client that replaces a file it has just uploaded removes it first; it is already gone.
            if self._taken.recall(_relative(path)) is None:
                raise
        self._taken.forget(_relative(path))
        return SFTP_OK

    def _mkdir(self, path: str) -> int:
        os.mkdir(self._resolve_below_root(path), DIR_MODE)
        return SFTP_OK

    def _rmdir(self, path: str) -> int:
        os.rmdir(self._resolve_below_root(path))
        return SFTP_OK

    def _list(self, folder: Path) -> list[paramiko.SFTPAttributes]:
        entries = []
        for name in sorted(os.listdir(folder)):
            info = os.lstat(folder / name)
            # Links, devices and FIFOs are not part of the area, so they are not listed.
            if stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode):
                entries.append(paramiko.SFTPAttributes.from_stat(info, name))
        return entries

    def _rename(self, oldpath: str, newpath: str, keep_existing: bool) -> int:
        source = self._resolve_below_root(oldpath)
        destination = self._resolve_below_root(newpath)
        if keep_existing and os.path.lexists(destination):
            # SFTP version 3 RENAME fails when the target exists, and posix-rename@openssh.com replaces it.
            raise FileExistsError(errno.EEXIST, "file exists", newpath)
        moving = [handle for handle in self._open_uploads if _relative(handle.client_path) == _relative(oldpath)]
        if moving:
            # The new content is still staged: it takes the new name when the client closes it.
            if os.path.lexists(source):
                os.replace(source, destination)
            for handle in moving:
                handle.client_path = newpath
            logger.info("SFTP rename of an open upload: tenant %s, %r -> %r, stored on close", self._tenant,
                        oldpath, newpath)
            return SFTP_OK
        os.replace(source, destination)
        self._taken.forget(_relative(oldpath))
        info = os.lstat(destination)
        if stat.S_ISREG(info.st_mode):
            relative = _relative(newpath)
            self._taken.remember(relative, paramiko.SFTPAttributes.from_stat(info))
            report_upload(tenant=self._tenant, target=destination, relative=relative, on_upload=self._on_upload)
        return SFTP_OK

    def _guard(self, operation: str, path: str, action: Callable[[], Result]) -> Result | int:
        self._on_activity()
        try:
            return action()
        except AreaPathError as error:
            logger.warning("SFTP %s rejected: tenant %s: %s", operation, self._tenant, error)
            return SFTP_PERMISSION_DENIED
        except OSError as error:
            logger.info("SFTP %s failed: tenant %s, path %r: %s", operation, self._tenant, path, error)
            return paramiko.SFTPServer.convert_errno(error.errno or 0)


def _relative(client_path: str) -> str:
    return normalize_client_path(client_path).as_posix()


class InboxSftpServer(paramiko.SFTPServer):
    """paramiko's SFTP subsystem, sending the reason of a rejected upload in the failure status.

    SFTP version 3 has no quota status code, so the reason travels as the status message, which
    clients show to the user. Without a reason the message stays paramiko's default.
    """

    server: TenantFileSystem

    def _send_status(self, request_number: int, code: int, desc: str | None = None) -> None:
        # NOTE: overrides a private method of paramiko (5.1); the quota tests check that clients
        # still receive the message.
        if code != SFTP_OK and desc is None and self.server.failure_detail is not None:
            desc = self.server.failure_detail
        self.server.failure_detail = None
        super()._send_status(request_number, code, desc)  # type: ignore[misc]
