"""Disk quota of a tenant's SFTP area: the stored files plus the uploads still in progress."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

QuotaLookup = Callable[[str], int | None]
"""Return a tenant's quota in bytes, or ``None`` for no limit."""


class QuotaExceeded(OSError):
    """Raised when an upload would take a tenant's SFTP area past its quota."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EDQUOT, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class AreaQuota:
    """The byte limit of one tenant's area and the folders counted against it."""

    tenant: str
    limit_bytes: int
    area: Path
    partial_dir: Path

    def used_bytes(self, *, excluding: tuple[Path, ...] = (), with_uploads: bool = True) -> int:
        """Return the bytes of regular files in the area and, with ``with_uploads``, of uploads in progress.

        ``excluding`` names files not to count, such as the file an upload replaces. Links are not
        followed and not counted.
        """
        skipped = {os.path.realpath(path) for path in excluding}
        folders = (self.area, self.partial_dir) if with_uploads else (self.area,)
        total = 0
        for folder in folders:
            for directory, _subfolders, names in os.walk(folder):
                for name in names:
                    path = os.path.join(directory, name)
                    if os.path.realpath(path) in skipped:
                        continue
                    try:
                        info = os.lstat(path)
                    except FileNotFoundError:
                        continue  # removed by another session during the walk
                    if stat.S_ISREG(info.st_mode):
                        total += info.st_size
        return total

    def exceeded(self, *, used: int, size: int) -> QuotaExceeded:
        """Return the error for an upload of ``size`` bytes when ``used`` bytes are already taken."""
        return QuotaExceeded(
            f"Quota exceeded: the SFTP area of tenant {self.tenant} holds at most {self.limit_bytes} bytes, "
            f"{used} bytes are in use and this upload has {size} bytes. The upload is not stored; "
            "delete processed files from the area or ask the platform operator for a larger quota."
        )
