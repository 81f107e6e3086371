"""The customer pages' catalogs: every string a customer sees translated in each page language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from bolletta.platform.portal.language import PAGE_LANGUAGES
from tests.unit.i18n.test_catalog import read_catalog

REPO_ROOT = Path(__file__).resolve().parents[3]
CUSTOMER_TEMPLATES = sorted((REPO_ROOT / "bolletta/themes/base/templates/portal").glob("*.html"))
CUSTOMER_MODULES = [path for path in sorted((REPO_ROOT / "bolletta/platform/portal").glob("*.py"))
                    if path.name != "pdf.py"]  # the rendered PDF is in Italian only
SPEECH_MODULES = sorted((REPO_ROOT / "bolletta/platform/speech").glob("*.py"))
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
KEYWORDS = {"_": None, "gettext": None, "N_": None, "NC_": ((1, "c"), 2)}


def customer_messages() -> dict[tuple[str, str | None], str]:
    """Every (msgid, msgctxt) of the customer pages, with one place that uses it."""
    found: dict[tuple[str, str | None], str] = {}
    for path in CUSTOMER_TEMPLATES:
        for line, message, _comments, context in extract_from_file("jinja2", path, options=JINJA_OPTIONS):
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault((msgid, context), f"{path.name}:{line}")
    for path in [*CUSTOMER_MODULES, *SPEECH_MODULES]:
        for line, message, _comments, context in extract_from_file("python", path, keywords=KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault((msgid, context), f"{path.name}:{line}")
    return found


@pytest.mark.parametrize("language", [code for code in PAGE_LANGUAGES if code != "en"])
def test_customer_strings_are_translated(language: str) -> None:
    catalog = read_catalog(language)

    missing = [f"{msgid!r} ({place})" for (msgid, context), place in sorted(customer_messages().items(), key=str)
               if not (entry := catalog.get(msgid, context=context)) or not entry.string or entry.fuzzy]

    assert not missing, f"customer strings without a {language} translation:\n" + "\n".join(missing)


def test_placeholders_survive_translation() -> None:
    import re

    for language in PAGE_LANGUAGES:
        catalog = read_catalog(language)
        for entry in catalog:
            if entry.id and isinstance(entry.string, str) and entry.string:
                expected = sorted(re.findall(r"\{\w+\}", entry.id))
                assert sorted(re.findall(r"\{\w+\}", entry.string)) == expected, (language, entry.id)
