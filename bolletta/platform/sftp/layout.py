"""Folder layout of the SFTP inbox on the server.

``<root>/<tenant slug>/`` is the tenant's area, the folder its SFTP session sees as ``/``.
``<root>/.partial/<tenant slug>/`` contains the uploads still in progress. It is outside every area, so
clients never see half-written files, and a tenant slug can never name it because slugs cannot
start with a dot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bolletta.platform.errors import BollettaError

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
"""Tenant slugs the inbox accepts as folder names: lower-case, at most 40 characters."""

PARTIAL_DIR_NAME = ".partial"
DIR_MODE = 0o700


class InvalidTenantSlug(BollettaError):
    """Raised when a tenant slug is not a safe folder name."""


@dataclass(frozen=True, slots=True)
class InboxLayout:
    """Folder layout of the SFTP inbox under ``root``."""

    root: Path

    def area(self, slug: str) -> Path:
        """Return the folder a tenant's session sees as ``/``."""
        return self.root / _checked(slug)

    def partial(self, slug: str) -> Path:
        """Return the folder that contains a tenant's uploads until the client closes them."""
        return self.root / PARTIAL_DIR_NAME / _checked(slug)

    def create(self, slug: str) -> Path:
        """Create the tenant's area and partial-upload folder if missing, and return the area.

        Raises:
            InvalidTenantSlug: ``slug`` is not a safe folder name.
            OSError: a folder could not be created.
        """
        area = self.area(slug)
        area.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        self.partial(slug).mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        return area


def _checked(slug: str) -> str:
    if SLUG_PATTERN.fullmatch(slug) is None:
        raise InvalidTenantSlug(
            f"tenant slug {slug!r} is not a valid folder name; use 1 to 40 characters from a-z, 0-9, '_' "
            "and '-', starting with a letter or digit"
        )
    return slug
