"""Notes of job transitions: system notes translated when shown, staff reasons kept as typed.

``JobTransition.note`` is a text column. A note the platform writes is stored as the JSON of a
``Text`` (``{"msgid": ..., "params": {...}}``), so the backoffice shows it in the staff member's
language. A reason a staff member types (rejection, cancellation) is stored and shown as typed.
Rows written before system notes were translatable hold plain English text and are shown as they are.

:func:`read_note` takes a stored note for a ``Text`` only when it is well-formed JSON of one of the
msgids in :data:`SYSTEM_NOTE_IDS`, with a value for every placeholder. Any other note, including a
typed reason that looks like JSON, is shown as typed. So :func:`render_note` raises no error on any
stored note.
"""

from __future__ import annotations

import string

import msgspec

from bolletta.platform.i18n.message import T_, Text, render

SOURCES: dict[str, Text] = {
    "office": T_("backoffice"),
    "api": T_("API"),
    "cli": T_("command line"),
    "sftp": T_("SFTP"),
    "sftp_poll": T_("SFTP download"),
}
"""Names of the channels an archive comes through (``Job.source``), as the note of a new job shows them."""

_FORMATTER = string.Formatter()
MAX_NESTING = 4
"""Maximum nesting depth of ``Text`` params in a stored note. A parse failure note nests the archive error."""


def opened(source: str, filename: str) -> Text:
    """Return the note of a job opened for ``filename``; an unknown ``source`` is shown as stored."""
    return T_("{file} uploaded through {source}", file=filename, source=SOURCES.get(source, source))


def parsed(accepted: int, rejected: int) -> Text:
    """Return the note of a parse that stored ``accepted`` bills and rejected ``rejected`` records."""
    return T_("bills accepted: {accepted}, rejected: {rejected}", accepted=accepted, rejected=rejected)


def parse_failed(archive_error: Text | None) -> Text:
    """Return the note of a parse that stored no bill, with the archive's error if it was unreadable."""
    if archive_error is None:
        return T_("no bill accepted")
    return T_("archive rejected: {reason}", reason=archive_error)


def sent_to_test_recipients(messages: int, bills: int) -> Text:
    """Return the note of a test batch that queued ``messages`` for ``bills`` sampled bills."""
    return T_("test messages: {messages}, bills in the sample: {bills}", messages=messages, bills=bills)


def no_test_recipients() -> Text:
    """Return the note of a test batch that reached no recipient because the tenant has no test recipients."""
    return T_("no test recipients configured: nothing sent")


def scheduled_start() -> Text:
    """Return the note of a dispatch started by its schedule."""
    return T_("scheduled start")


def no_ticket_to_send() -> Text:
    """Return the note of a dispatch that ended at once because no bill had a contact to send to."""
    return T_("no ticket to send")


SYSTEM_NOTE_IDS = frozenset({
    opened("", "").msgid, parsed(0, 0).msgid, parse_failed(None).msgid, parse_failed(Text("")).msgid,
    sent_to_test_recipients(0, 0).msgid, no_test_recipients().msgid, scheduled_start().msgid, no_ticket_to_send().msgid,
})
"""The msgids a stored note may have to be translated: those of the builders above."""


def stored(note: Text | str) -> str:
    """Return ``note`` as ``JobTransition.note`` stores it: a ``Text`` as JSON, a typed reason as it is.

    Raises:
        ValueError: a ``Text`` whose msgid is not in :data:`SYSTEM_NOTE_IDS`, which :func:`read_note`
            would show as raw JSON. Add a builder and its msgid to this module.
    """
    if isinstance(note, str):
        return note
    if note.msgid not in SYSTEM_NOTE_IDS:
        raise ValueError(f"Job note msgid {note.msgid!r} is not in SYSTEM_NOTE_IDS; add it to "
                         f"bolletta.platform.jobs.notes so that the backoffice can translate it.")
    return msgspec.json.encode(note).decode()


def read_note(note: str) -> Text | str:
    """Return the ``Text`` that ``note`` stores, or ``note`` itself when it is plain text."""
    if not note.startswith("{"):
        return note
    try:
        text = msgspec.json.decode(note, type=Text)
    except msgspec.DecodeError:
        return note
    if text.msgid not in SYSTEM_NOTE_IDS or not _well_formed(text):
        return note
    return text


def render_note(note: str, language: str) -> str:
    """Return ``note`` as staff read it in ``language``: translated if the platform wrote it."""
    return render(read_note(note), language)


def _well_formed(text: Text, depth: int = 1) -> bool:
    """True when every placeholder of ``text`` and its nested texts is a bare name with a value.

    A note that passes formats without error, and a typed reason that only looks like a ``Text``
    cannot use attribute access, indexing or a format spec on its values, nor nest without end.
    """
    if depth > MAX_NESTING:
        return False
    try:
        fields = list(_FORMATTER.parse(text.msgid))
    except ValueError:
        return False
    for _literal, name, spec, conversion in fields:
        if name is None:
            continue
        if not name.isidentifier() or name not in text.params or spec or conversion:
            return False
    return all(_well_formed(value, depth + 1) for value in text.params.values() if isinstance(value, Text))
