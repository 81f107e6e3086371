"""Stored report messages: JSON round trip, Italian rendering, and reports stored as plain strings."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from bolletta.platform.i18n import message
from bolletta.platform.i18n.message import T_, Text, render, to_json
from bolletta.platform.ingest.reader import read_flow
from bolletta.platform.mail.notify import _body
from bolletta.platform.web.templates import environment

MALFORMED_NAME = "IT01234567890_00001.xml"
MALFORMED_XML = b"<?xml version='1.0'?><p:FatturaElettronica><FatturaElettronicaHeader>"

OLD_REASON = "IT01234567890_00001.xml was rejected: it is not well-formed XML (line 1)."
"""A reason as reports stored it before messages were translatable."""


def malformed_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MALFORMED_NAME, MALFORMED_XML)
    return buffer.getvalue()


def test_rejection_in_italian_names_file_and_fix() -> None:
    [rejection] = read_flow(malformed_archive(), "broken.zip").rejected

    italian = render(rejection.reason)

    assert rejection.file == MALFORMED_NAME
    assert italian.startswith(f"{MALFORMED_NAME} è stato scartato: non è un XML ben formato (")
    assert italian.endswith("). Esporta di nuovo il file dal sistema di fatturazione.")


def test_rejection_in_english_is_msgid() -> None:
    [rejection] = read_flow(malformed_archive(), "broken.zip").rejected

    english = render(rejection.reason, "en")

    assert english.startswith(f"{MALFORMED_NAME} was rejected: it is not well-formed XML (")
    assert english.endswith("). Export the file again from the billing system.")


def test_json_round_trip_renders_same() -> None:
    text = T_("{file} is encrypted and cannot be read. Add it without a password.", file="bolletta.pdf")

    stored = msgspec.json.decode(msgspec.json.encode(to_json(text)))

    assert stored == {
        "msgid": "{file} is encrypted and cannot be read. Add it without a password.",
        "params": {"file": "bolletta.pdf"},
    }
    assert render(stored) == render(text)
    assert render(stored) == "bolletta.pdf è cifrato e non si può leggere. Aggiungilo all'archivio senza password."


def test_nested_text_rendered_in_same_language() -> None:
    inner = T_("{file} is encrypted and cannot be read. Add it without a password.", file="a.pdf")
    outer = T_("Attachment {name}: {reason}", name="fattura.zip", reason=inner)
    stored = msgspec.json.decode(msgspec.json.encode(to_json(outer)))

    assert render(stored) == (
        "Allegato fattura.zip: a.pdf è cifrato e non si può leggere. Aggiungilo all'archivio senza password."
    )
    assert render(stored, "en") == (
        "Attachment fattura.zip: a.pdf is encrypted and cannot be read. Add it without a password."
    )


def test_plain_string_rendered_as_is() -> None:
    assert render(OLD_REASON) == OLD_REASON
    assert render(OLD_REASON, "en") == OLD_REASON
    assert to_json(OLD_REASON) == OLD_REASON


def test_with_params_keeps_existing_ones() -> None:
    text = Text("{file}, row {row}: {value}", {"value": "x"})

    assert text.with_params(file="contacts.csv", row=3) == Text(
        "{file}, row {row}: {value}", {"value": "x", "file": "contacts.csv", "row": 3}
    )


def test_mismatched_translation_falls_back_to_msgid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(message, "gettext", lambda language, msgid: "{nome} è vuoto.")

    assert render(T_("{file} is empty.", file="contacts.csv")) == "contacts.csv is empty."


def test_template_global_translates_report_items() -> None:
    page = environment("it").from_string("{% for item in items %}<li>{{ tr(item) }}</li>{% endfor %}")
    new_item = to_json(T_("not a bill, contacts or PDF file, so it was not read"))

    html = page.render(items=[new_item, OLD_REASON])

    assert html == (
        "<li>non è un file di bollette, di recapiti o un PDF, quindi non è stato letto</li>"
        f"<li>{OLD_REASON}</li>"
    )


def failed_job(report: dict[str, Any]) -> SimpleNamespace:
    """A stand-in for a failed ``Job`` with ``report``, for the e-mail body."""
    return SimpleNamespace(
        id=7, filename="broken.zip", state="failed", created_at=datetime(2024, 5, 2, 9, 30, tzinfo=UTC),
        bills_accepted=0, bills_rejected=len(report["rejected"]), report=report,
    )


def test_mail_lists_reasons_in_italian() -> None:
    [rejection] = read_flow(malformed_archive(), "broken.zip").rejected
    archive_error = T_("{file} inflates to more than the limit of {limit} bytes. Split the flow into several "
                       "archives.", file="broken.zip", limit=1000)
    report = {
        "rejected": [{"file": MALFORMED_NAME, "record": None, "field": None, "reason": to_json(rejection.reason)}],
        "archive_error": to_json(archive_error),
    }

    text = _body("Acqua Demo", failed_job(report), "failed")  # type: ignore[arg-type]

    assert f"- {MALFORMED_NAME}: {MALFORMED_NAME} è stato scartato: non è un XML ben formato (" in text
    assert "Archivio rifiutato: broken.zip, decompresso, supera il limite di 1000 byte." in text


def test_mail_lists_old_plain_reasons() -> None:
    report = {
        "rejected": [{"file": MALFORMED_NAME, "record": "1", "field": None, "reason": OLD_REASON}],
        "archive_error": "flow.zip is not a readable ZIP archive.",
    }

    text = _body("Acqua Demo", failed_job(report), "failed")  # type: ignore[arg-type]

    assert f"- {MALFORMED_NAME} 1: {OLD_REASON}" in text
    assert "Archivio rifiutato: flow.zip is not a readable ZIP archive." in text
