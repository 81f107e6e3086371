"""Where original archives and bill PDFs are kept; every key starts with the tenant's slug.

Only the local filesystem is implemented; an S3-compatible store keeps the same interface.
"""

from __future__ import annotations

from pathlib import Path

from bolletta.platform.db.database import check_slug


class LocalStorage:
    """Objects as files under ``root/<tenant>/...``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, tenant: str, key: str, data: bytes) -> str:
        """Store ``data`` under the tenant's prefix and return the full key."""
        full_key = f"{check_slug(tenant)}/{key}"
        path = self._path(full_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        temporary.write_bytes(data)
        temporary.replace(path)
        return full_key

    def get(self, full_key: str) -> bytes:
        """Return the object's bytes; raises ``FileNotFoundError`` when it is missing."""
        return self._path(full_key).read_bytes()

    def path(self, full_key: str) -> Path:
        """Return the local file of an object, to read it without loading it whole."""
        return self._path(full_key)

    def exists(self, full_key: str) -> bool:
        """True when the object is stored."""
        return self._path(full_key).is_file()

    def _path(self, full_key: str) -> Path:
        path = (self.root / full_key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key {full_key!r} leaves the storage root")
        return path
