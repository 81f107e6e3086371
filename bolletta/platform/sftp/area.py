"""Confinement of SFTP client paths to one tenant's area.

A client sees its area as ``/``. Every path it sends is normalized as a POSIX path relative to that
root, and the result must stay inside the area without passing through a symbolic link. The area is
treated as a file system with no links, so a link an operator leaves there by mistake can neither
lead out of it nor give a second name to a file inside it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from bolletta.platform.errors import BollettaError


class AreaPathError(BollettaError):
    """Raised when a client path is invalid or would reach outside the tenant's area."""


def normalize_client_path(client_path: str) -> PurePosixPath:
    """Return ``client_path`` as a normalized path relative to the area root (``.`` for the root).

    ``/a/b``, ``a/b``, ``//a/./b`` and ``/a/x/../b`` all give ``a/b``.

    Raises:
        AreaPathError: the path contains a control character or a backslash, or a ``..`` component
            climbs above the area root.
    """
    if any(ord(character) < 32 or ord(character) == 127 for character in client_path):
        raise AreaPathError(f"path {client_path!r} contains a control character")
    if "\\" in client_path:
        raise AreaPathError(f"path {client_path!r} contains a backslash, but SFTP paths use '/' as separator")

    parts: list[str] = []
    for part in client_path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise AreaPathError(f"path {client_path!r} climbs above the area root")
            parts.pop()
            continue
        parts.append(part)
    return PurePosixPath(*parts)


def to_client_path(relative: PurePosixPath) -> str:
    """Return the absolute form the client sees for a normalized relative path (``/`` for the root)."""
    if relative == PurePosixPath("."):
        return "/"
    return f"/{relative}"


def resolve_in_area(root: Path, client_path: str) -> Path:
    """Return the server path that ``client_path`` names inside the area at ``root``.

    The result may not exist yet. Every component of it that exists is a real file or directory,
    never a symbolic link.

    Raises:
        AreaPathError: the path is invalid (see :func:`normalize_client_path`), passes through a
            symbolic link, or resolves outside ``root``.
    """
    real_root = Path(os.path.realpath(root))
    relative = normalize_client_path(client_path)

    candidate = real_root
    for part in relative.parts:
        candidate = candidate / part
        try:
            mode = os.lstat(candidate).st_mode
        except FileNotFoundError:
            # The remaining components do not exist either, so they cannot be links.
            break
        except NotADirectoryError:
            break
        if stat.S_ISLNK(mode):
            raise AreaPathError(
                f"path {client_path!r} passes through a symbolic link; links are not followed"
            )
    target = real_root.joinpath(*relative.parts)

    # The walk above already rejects links, so this check can fail only if a link appears between
    # the two checks, for example one an operator creates during the request.
    real_target = os.path.realpath(target)
    if os.path.commonpath([real_root, real_target]) != str(real_root):
        raise AreaPathError(f"path {client_path!r} resolves outside the area")
    return target
