"""The gettext catalogs against the strings in the code, and Babel's formats for Italian."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bolletta.platform.dispatch.rendering import SERVICE_LABELS
from bolletta.platform.i18n import formatting
from bolletta.platform.i18n.catalog import DOMAIN, LOCALE_DIR, translations
from bolletta.platform.i18n.dynamic_ids import SERVICE_IDS
from bolletta.platform.i18n.job_states import JOB_STATE_LABELS
from bolletta.platform.jobs.states import ALLOWED
from bolletta.platform.web.templates import environment

REPO_ROOT = Path(__file__).resolve().parents[3]
UPDATE_HINT = (
    "Extract and update the catalogs as docs/i18n.md describes, then translate the new entries in "
    "bolletta/themes/base/locale/it/LC_MESSAGES/bolletta.po."
)

MessageKey = tuple[str, str | None]
"""A catalog entry's msgid and msgctxt."""


def extract_messages() -> dict[MessageKey, list[str]]:
    """Extract every message the code marks, with the same mapping as ``pybabel extract -F babel.cfg``.

    Returns each (msgid, msgctxt) with the ``file:line`` places that use it.
    """
    with (REPO_ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")

    found: dict[MessageKey, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(REPO_ROOT, method_map, options_map):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def read_catalog(language: str) -> Catalog:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        # abort_invalid: a line that is not PO syntax, such as a merge conflict marker, fails the test.
        return read_po(handle, locale=language, domain=DOMAIN, abort_invalid=True)


def describe(key: MessageKey, places: list[str]) -> str:
    msgid, context = key
    label = f"{msgid!r} (msgctxt {context!r})" if context else repr(msgid)
    return f"{label} at {', '.join(places)}"


@pytest.fixture(scope="module")
def extracted() -> dict[MessageKey, list[str]]:
    return extract_messages()


def test_extraction_finds_templates_and_dynamic_ids(extracted: dict[MessageKey, list[str]]) -> None:
    assert ("Amount due", None) in extracted
    assert ("Due by", "table column") in extracted
    assert ("test sent", "job state") in extracted
    assert ("bills accepted: {accepted}, rejected: {rejected}", None) in extracted
    assert ("Electricity", None) in extracted


def test_italian_catalog_covers_every_msgid(extracted: dict[MessageKey, list[str]]) -> None:
    catalog = read_catalog("it")

    missing = [
        describe(key, places) for key, places in sorted(extracted.items(), key=str)
        if catalog.get(key[0], context=key[1]) is None
    ]

    assert not missing, f"{UPDATE_HINT} Msgids missing from the Italian catalog:\n" + "\n".join(missing)


def test_italian_catalog_has_no_untranslated_entry(extracted: dict[MessageKey, list[str]]) -> None:
    catalog = read_catalog("it")

    untranslated = []
    for key, places in sorted(extracted.items(), key=str):
        entry = catalog.get(key[0], context=key[1])
        if entry is None:
            continue
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(forms):
            untranslated.append(describe(key, places))

    assert not untranslated, "Msgids with an empty Italian translation:\n" + "\n".join(untranslated)


def test_italian_catalog_has_no_fuzzy_entry() -> None:
    catalog = read_catalog("it")

    # Iterating a Babel catalog yields the header first, as an entry with an empty msgid.
    fuzzy = [repr(entry.id) for entry in catalog if entry.id and entry.fuzzy]

    assert not fuzzy, (
        "The loader skips fuzzy entries, so these show English. Review each translation and remove "
        "its fuzzy flag:\n" + "\n".join(fuzzy)
    )


def test_english_catalog_repeats_each_msgid() -> None:
    catalog = read_catalog("en")

    different = [repr(entry.id) for entry in catalog if entry.id and entry.string != entry.id]

    assert not different, "English entries whose msgstr differs from the msgid:\n" + "\n".join(different)


def test_italian_translations_keep_placeholders() -> None:
    catalog = read_catalog("it")
    placeholder = re.compile(r"\{(\w+)\}")

    # Report messages fill their placeholders with str.format, so a renamed or dropped one breaks them.
    mismatched = [
        f"{entry.id!r}: {entry.string!r}"
        for entry in catalog
        if entry.id and isinstance(entry.id, str) and entry.string
        and set(placeholder.findall(entry.id)) != set(placeholder.findall(str(entry.string)))
    ]

    assert not mismatched, "Italian translations whose {placeholders} differ from the msgid:\n" + "\n".join(
        mismatched
    )


def test_job_state_labels_cover_states() -> None:
    assert set(JOB_STATE_LABELS) == set(ALLOWED)


def test_dynamic_ids_match_services() -> None:
    assert set(SERVICE_IDS) == {service.capitalize() for service in SERVICE_LABELS}


def test_italian_translation_of_amount_due() -> None:
    assert translations("it").gettext("Amount due") == "Quanto pagare"


@pytest.mark.parametrize(
    ("context", "msgid", "expected"),
    [
        (None, "Due by", "Entro quando"),
        ("table column", "Due by", "Scadenza"),
        (None, "of", "di"),
        ("before a date", "of", "del"),
    ],
)
def test_italian_translation_by_context(context: str | None, msgid: str, expected: str) -> None:
    italian = translations("it")

    translated = italian.gettext(msgid) if context is None else italian.pgettext(context, msgid)

    assert translated == expected


def fake_tenant() -> SimpleNamespace:
    branding = SimpleNamespace(
        display_name="Acqua Demo S.p.A.",
        support_phone="800 123 456",
        support_email="clienti@example.it",
        website="https://www.example.it",
    )
    return SimpleNamespace(name="Acqua Demo", slug="acqua-demo", config=SimpleNamespace(branding=branding))


def render_invalid_page(language: str) -> str:
    tenant = fake_tenant()
    page = environment(language).get_template("portal/invalid.html")
    return page.render(tenant=tenant, config=tenant.config)


def test_invalid_page_in_italian() -> None:
    html = render_invalid_page("it")

    assert '<html lang="it" dir="ltr">' in html
    assert ">Link non più valido</h1>" in html
    assert "Per ricevere un nuovo link, contatta il servizio clienti" in html
    assert 'Servizio clienti: <a href="tel:800123456">800 123 456</a>' in html
    assert "Link no longer valid" not in html


def test_invalid_page_in_english() -> None:
    html = render_invalid_page("en")

    assert '<html lang="en" dir="ltr">' in html
    assert ">Link no longer valid</h1>" in html
    assert "To receive a new link, contact customer service" in html
    assert "Link non più valido" not in html


def test_money_in_italian() -> None:
    assert formatting.money(Decimal("4082")) == "4.082,00\u00a0€"


def test_day_in_italian() -> None:
    assert formatting.day(date(2023, 9, 19)) == "19/09/2023"
