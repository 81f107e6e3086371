"""Errors the flow readers raise for a problem with a whole archive or a whole file.

Readers return a problem with one entry, bill or row as a ``Rejection`` record instead of raising.
"""

from __future__ import annotations

from bolletta.platform.errors import BollettaError
from bolletta.platform.i18n.message import Text, render


class FlowFileError(BollettaError):
    """Base of the errors below: ``text`` is the reason as a translatable ``Text``.

    ``str(error)`` is the reason in English, for logs.
    """

    def __init__(self, text: Text) -> None:
        super().__init__(render(text, "en"))
        self.text = text


class ArchiveRejected(FlowFileError):
    """Raised when the uploaded archive cannot be read at all."""


class ContactsFileRejected(FlowFileError):
    """Raised when a contacts CSV is wrong as a whole (unreadable, no customer code column)."""
