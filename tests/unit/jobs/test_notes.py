"""Job transition notes: stored as translatable JSON, typed reasons and old English notes shown as they are."""

from __future__ import annotations

import json
import string

import pytest

from bolletta.platform.i18n.job_states import JOB_STATE_LABELS, job_state_label
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.archive import ArchiveRejected, open_archive
from bolletta.platform.jobs import notes
from bolletta.platform.jobs.notes import read_note, render_note, stored


def test_system_note_round_trip() -> None:
    note = notes.parsed(3, 1)

    assert stored(note).startswith('{"msgid":')
    assert read_note(stored(note)) == note


def test_parsed_note_in_italian_and_english() -> None:
    note = stored(notes.parsed(3, 1))

    assert render_note(note, "it") == "fatture accettate: 3, scartate: 1"
    assert render_note(note, "en") == "bills accepted: 3, rejected: 1"


@pytest.mark.parametrize(("note", "italian"), [
    (notes.opened("office", "flusso.zip"), "flusso.zip caricato tramite backoffice"),
    (notes.opened("cli", "flusso.zip"), "flusso.zip caricato tramite riga di comando"),
    (notes.opened("ftp", "flusso.zip"), "flusso.zip caricato tramite ftp"),
    (notes.parse_failed(None), "nessuna fattura accettata"),
    (notes.sent_to_test_recipients(4, 2), "messaggi di test: 4, fatture del campione: 2"),
    (notes.no_test_recipients(), "nessun destinatario di test configurato: non è stato inviato nulla"),
    (notes.scheduled_start(), "avvio programmato"),
    (notes.no_ticket_to_send(), "nessun ticket da inviare"),
])
def test_system_notes_in_italian(note: Text, italian: str) -> None:
    assert render_note(stored(note), "it") == italian


def archive_error() -> Text:
    """The error the archive reader returns for a file that is not a ZIP archive."""
    with pytest.raises(ArchiveRejected) as rejected:
        open_archive(b"not a zip", "flusso.zip")
    return rejected.value.text


def test_archive_error_note_translated_inside() -> None:
    note = stored(notes.parse_failed(archive_error()))

    italian = render_note(note, "it")

    assert italian.startswith("archivio rifiutato: flusso.zip ")
    assert "is not a readable" not in italian
    assert render_note(note, "en").startswith("archive rejected: flusso.zip is not a readable ZIP archive (")


def test_old_english_note_shown_as_is() -> None:
    for old in ("3 bills accepted, 0 rejected", "no test recipients configured: nothing sent", "office upload a.zip"):
        assert read_note(old) == old
        assert render_note(old, "it") == old


def test_typed_reason_kept_as_typed() -> None:
    reason = "Importi errati {totale}, ricaricare"

    assert stored(reason) == reason
    assert render_note(reason, "en") == reason


@pytest.mark.parametrize("typed", [
    '{"msgid": "Approve", "params": {}}',  # a msgid that is not a job note
    '{"msgid": "archive rejected: {reason}", "params": {}}',  # placeholder without a value
    '{"msgid": "archive rejected: {reason}", "params": {"reason": {"msgid": "{x.__class__}", "params": {"x": 1}}}}',
    '{"msgid": "archive rejected: {reason}", "params": {"reason": {"msgid": "{x:>999999999}", "params": {"x": 1}}}}',
    '{"msgid": "archive rejected: {reason}", "params": {"reason": {"msgid": "{x!r}", "params": {"x": "a"}}}}',
    '{"msgid": "archive rejected: {reason}", "params": {"reason": {"msgid": "{", "params": {}}}}',
    '{"msgid": "archive rejected: {reason}", "params": {"reason": [1, 2]}}',
    '{"msgid": "scheduled start"',
])
def test_json_like_reason_shown_as_typed(typed: str) -> None:
    assert read_note(typed) == typed
    assert render_note(typed, "it") == typed


def test_deeply_nested_note_shown_as_typed() -> None:
    inner: dict[str, object] = {"msgid": "x", "params": {}}
    for _ in range(notes.MAX_NESTING):
        inner = {"msgid": "archive rejected: {reason}", "params": {"reason": inner}}
    typed = json.dumps(inner)

    assert read_note(typed) == typed


def test_stored_rejects_unregistered_msgid() -> None:
    with pytest.raises(ValueError, match="not in SYSTEM_NOTE_IDS"):
        stored(T_("Approve"))


def test_every_system_note_translated() -> None:
    untranslated = []
    for msgid in notes.SYSTEM_NOTE_IDS:
        params = {name: "x" for name in _names(msgid)}
        if render_note(stored(Text(msgid, params)), "it") == msgid.format(**params):
            untranslated.append(msgid)

    assert not untranslated, f"job notes without an Italian translation: {untranslated}"


def test_state_labels_both_languages() -> None:
    assert job_state_label("test_sent", "en") == "test sent"
    assert job_state_label("test_rejected", "en") == "test rejected"
    assert job_state_label("test_sent", "it") == "test inviato"
    assert job_state_label("dispatching", "it") == "inoltro in corso"
    assert job_state_label("archived", "it") == "archived"


def test_english_labels_not_codes() -> None:
    codes = [state for state in JOB_STATE_LABELS if "_" in job_state_label(state, "en")]

    assert not codes, f"English state labels that show the stored code: {codes}"


def _names(msgid: str) -> list[str]:
    return [name for _literal, name, _spec, _conversion in string.Formatter().parse(msgid) if name]
