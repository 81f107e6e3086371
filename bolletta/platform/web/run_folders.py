"""Folders that one run of ``bolletta serve --processes N`` owns, and removing those of runs that were killed.

The supervisor creates two folders per run: the shared metrics folder ``metrics/serve-PID`` under
the data folder, and the view writer's socket folder ``bolletta-views-PID-*`` under the system's
temporary folder. It removes both when it stops, but a supervisor killed with SIGKILL cannot.

So each folder holds a lock file on which its supervisor keeps an exclusive ``flock`` while it runs.
The kernel releases that lock when the process ends, however it ends. At start, a supervisor removes
each folder of the same kind that belongs to its own user and whose lock it can take. A folder
without a lock file (one being created, or left by a version without locks) is removed only when no
process has the id in its name; socket folders of that older version have no id in their name and
are left alone.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

LOCK_NAME = "owner.lock"
METRICS_FOLDER = re.compile(r"serve-(?P<pid>\d+)")
"""Names of the shared metrics folders, ``serve-1234``, under the data folder's ``metrics``."""
VIEWS_FOLDER = re.compile(r"bolletta-views-(?P<pid>\d+)-\w+")
"""Names of the view writer's socket folders, ``bolletta-views-1234-k3j2x9ab``, made by ``mkdtemp``."""


def claim(folder: Path) -> int:
    """Lock ``folder`` for this process until it ends, and return the lock's file descriptor.

    The lock file is created and locked under a temporary name, then renamed, so another supervisor
    never finds an unlocked lock file in a live run's folder.
    """
    pending = folder / f".{LOCK_NAME}.{os.getpid()}"
    descriptor = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        pending.rename(folder / LOCK_NAME)
    except OSError:
        os.close(descriptor)
        raise
    return descriptor


def remove_stale(parent: Path, names: re.Pattern[str]) -> list[Path]:
    """Remove the folders in ``parent`` whose whole name matches ``names`` and whose supervisor has ended.

    Only folders (never symbolic links) owned by this process's user are considered. Returns the
    removed folders.
    """
    removed = []
    for folder in sorted(parent.iterdir()):
        match = names.fullmatch(folder.name)
        if match is None:
            continue
        try:
            info = folder.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or _owner_alive(folder, int(match["pid"])):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        logger.info("removed %s, left by a bolletta serve that ended without removing it", folder)
        removed.append(folder)
    return removed


def _owner_alive(folder: Path, pid: int) -> bool:
    """Check whether the supervisor that created ``folder`` may still run; ``True`` when unsure."""
    try:
        descriptor = os.open(folder / LOCK_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return _process_exists(pid)
    except OSError:
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError while the owner holds the lock
        return True
    finally:
        os.close(descriptor)
    return False


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
