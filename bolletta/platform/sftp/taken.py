"""What one SFTP session remembers about the files the server took from its area.

A completed upload can leave the area at once: the inbox opens a job and removes the file while
the client is still waiting for the reply to its CLOSE. Clients check the file right after that:
paramiko's ``put`` stats it to compare the size, and WinSCP or FileZilla set its times ("preserve
timestamp"). For :data:`REMEMBER_SECONDS` after a file was completed, a stat of its name in the
same session returns the attributes the file had then. A setstat or remove of it succeeds without
effect, so those clients do not report a failed upload and send it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paramiko

REMEMBER_SECONDS = 60.0


@dataclass
class TakenFiles:
    """Attributes of completed files by normalized area-relative path, each kept for ``seconds``."""

    seconds: float = REMEMBER_SECONDS
    now: Callable[[], float] = time.monotonic
    _entries: dict[str, tuple[float, paramiko.SFTPAttributes]] = field(default_factory=dict)

    def remember(self, relative: str, attributes: paramiko.SFTPAttributes) -> None:
        self._drop_expired()
        self._entries[relative] = (self.now() + self.seconds, attributes)

    def recall(self, relative: str) -> paramiko.SFTPAttributes | None:
        """Return the remembered attributes of ``relative``, or ``None`` if unknown or expired."""
        self._drop_expired()
        entry = self._entries.get(relative)
        return None if entry is None else entry[1]

    def forget(self, relative: str) -> None:
        self._entries.pop(relative, None)

    def _drop_expired(self) -> None:
        now = self.now()
        for relative in [key for key, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[relative]
