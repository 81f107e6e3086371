"""Open-file handles of an SFTP session: plain reads, and uploads staged until the client closes them.

An upload never writes to its target name. It writes to a temporary file in the tenant's
partial-upload folder, and only an explicit CLOSE from the client moves it into place. A handle that
paramiko closes because the session ended is aborted instead: its temporary file is deleted, so the
target keeps its previous content and the same name can be uploaded again.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import paramiko
from paramiko.sftp import SFTP_FAILURE, SFTP_OK

from bolletta.platform.sftp.quota import QuotaExceeded

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


def open_regular_file(path: Path) -> BinaryIO:
    """Open ``path`` for reading, rejecting links and anything that is not a regular file.

    ``O_NONBLOCK`` keeps a FIFO left in the area from blocking the session on open.

    Raises:
        OSError: the file is missing, a link (``ELOOP``) or not a regular file (``EINVAL``).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


class ReadHandle(paramiko.SFTPHandle):
    """Handle of a file opened for reading only."""

    def __init__(self, path: Path, *, on_activity: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self.readfile = open_regular_file(path)
        self._on_activity = on_activity

    def read(self, offset: int, length: int) -> bytes | int:
        self._on_activity()
        result: bytes | int = super().read(offset, length)
        return result

    def stat(self) -> paramiko.SFTPAttributes | int:
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        # Attribute changes are accepted and ignored, because clients often send them after an upload.
        return SFTP_OK


class UploadHandle(paramiko.SFTPHandle):
    """Handle of a file opened for writing, staged in ``partial_dir`` until the client closes it.

    When the client closes the handle, ``commit`` receives the handle and the staged file's path,
    and it moves the file into place and reports the upload. When the handle closes after
    :meth:`abort`, the staged file is deleted and then ``discard`` receives the handle.

    ``size_limit`` is the size in bytes the file may reach. A write past it fails, and so does every
    later write and the close, which deletes the staged file. ``reject`` receives the error's
    message each time, so the session can send it to the client.
    """

    def __init__(
        self,
        *,
        client_path: str,
        target: Path,
        flags: int,
        partial_dir: Path,
        commit: Callable[[UploadHandle, Path], None],
        discard: Callable[[UploadHandle], None],
        size_limit: Callable[[int], QuotaExceeded | None] = lambda size: None,
        reject: Callable[[str], None] = lambda message: None,
        on_activity: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(flags)
        self.client_path = client_path
        """The path the client opened, as it sent it."""
        self.bytes_written = 0
        self.rejection: QuotaExceeded | None = None
        """Why the upload can no longer be stored; ``None`` while it can."""
        self._commit = commit
        self._discard = discard
        self._size_limit = size_limit
        self._reject = reject
        self._on_activity = on_activity
        self._aborted = False
        self._closed = False
        self.staged_path = _stage(target, flags, partial_dir)
        self._size = self.staged_path.stat().st_size

        access = os.O_RDWR | (flags & os.O_APPEND) | os.O_NOFOLLOW
        try:
            file = os.fdopen(os.open(self.staged_path, access), "r+b")
        except OSError:
            self.staged_path.unlink(missing_ok=True)
            raise
        self.writefile = file
        if flags & os.O_RDWR:
            self.readfile = file

    def write(self, offset: int, data: ReadableBuffer) -> int:
        self._on_activity()
        length = memoryview(data).nbytes
        if self.rejection is None:
            self.rejection = self._size_limit(max(self._size, offset + length))
        if self.rejection is not None:
            self._reject(self.rejection.message)
            return SFTP_FAILURE
        result: int = super().write(offset, data)
        if result == SFTP_OK:
            self.bytes_written += length
            self._size = max(self._size, offset + length)
        return result

    def stat(self) -> paramiko.SFTPAttributes | int:
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.writefile.fileno()))

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        # Attribute changes are accepted and ignored, as for read handles.
        return SFTP_OK

    def abort(self) -> None:
        """Mark the upload as abandoned, so that closing the handle discards it."""
        self._aborted = True

    def close(self) -> None:
        """Close the file, then commit or discard the upload. A second call does nothing."""
        if self._closed:
            return
        self._closed = True
        super().close()

        if self._aborted:
            self.staged_path.unlink(missing_ok=True)
            self._discard(self)
            return
        if self.rejection is not None:
            self.staged_path.unlink(missing_ok=True)
            self._discard(self)
            # Raising makes paramiko (5.1) reply to the CLOSE with a failure status.
            self._reject(self.rejection.message)
            raise self.rejection
        try:
            self._commit(self, self.staged_path)
        finally:
            # After a successful commit the staged file has been moved and this does nothing.
            self.staged_path.unlink(missing_ok=True)


def _stage(target: Path, flags: int, partial_dir: Path) -> Path:
    """Create the staged file for an upload to ``target`` and return its path.

    The staged file has mode 0600 (``mkstemp`` creates it so). It starts empty when the client
    truncates or creates the target, and as a copy of the target when the client opens an existing
    file to change or append to it.

    Raises:
        OSError: ``target`` is missing without ``O_CREAT`` (``ENOENT``), exists with ``O_EXCL``
            (``EEXIST``), is not a regular file (``EISDIR``), or cannot be read or copied.
    """
    exists = os.path.lexists(target)
    if flags & os.O_EXCL and exists:
        raise FileExistsError(errno.EEXIST, "file exists", str(target))
    if not flags & os.O_CREAT and not exists:
        raise FileNotFoundError(errno.ENOENT, "no such file", str(target))
    if exists and not stat.S_ISREG(os.lstat(target).st_mode):
        raise IsADirectoryError(errno.EISDIR, "not a regular file", str(target))

    descriptor, name = tempfile.mkstemp(dir=partial_dir, prefix="upload-", suffix=".part")
    staged = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as staged_file:
            if exists and not flags & os.O_TRUNC:
                with open_regular_file(target) as source:
                    shutil.copyfileobj(source, staged_file)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return staged
