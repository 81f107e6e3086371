"""Errors the flow readers raise for a problem with a whole archive or a whole file.

Readers return a problem with one entry, bill or row as a ``Rejection`` record instead of raising.
"""

from __future__ import annotations

from bolletta.platform.errors import BollettaError


class ArchiveRejected(BollettaError):
    """Raised when the uploaded archive cannot be read at all; ``str(error)`` is the reason."""


class ContactsFileRejected(BollettaError):
    """Raised when a contacts CSV is wrong as a whole (unreadable, no customer code column)."""
