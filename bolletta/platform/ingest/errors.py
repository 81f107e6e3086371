"""Errors the flow readers raise for a problem with a whole archive or a whole file.

Problems with one entry, bill or row never raise: readers return them as ``Rejection`` records.
"""

from __future__ import annotations

from bolletta.platform.errors import BollettaError


class ArchiveRejected(BollettaError):
    """Raised when the uploaded archive cannot be read at all; ``str(error)`` is the reason."""


class ContactsFileRejected(BollettaError):
    """Raised when a contacts CSV is wrong as a whole (unreadable, no customer code column)."""
