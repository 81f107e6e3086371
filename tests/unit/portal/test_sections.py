"""The four sections, from both flow formats, in each payment state and language."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bolletta.platform.portal.page import build_context, template_context
from bolletta.platform.portal.sections import TEMPLATES, build_page
from bolletta.tenants.config import PortalSettings, TenantConfig
from tests.unit.portal.bills import (
    TENANT,
    bill_from,
    parsed_fatturapa,
    parsed_jsonl,
    render_section,
    rich_record,
    summary_of,
)

ALL_LANGUAGES = TenantConfig(portal=PortalSettings(languages=["it", "en", "de", "fr", "es", "ro", "ar"]))


def page_html(bill, section: str, language: str = "it", state: str = "payable", config: TenantConfig = ALL_LANGUAGES,
              **summary_fields) -> str:
    context = build_context(summary_of(bill, state, **summary_fields), TENANT.name, config, language)
    return render_section(TEMPLATES[section], language, config, section=section, **template_context(context))


def visible_text(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def fatturapa_bills():
    return parsed_fatturapa()


def test_jsonl_bill_has_every_section() -> None:
    bill = bill_from(parsed_jsonl(rich_record()))

    page = build_page(summary_of(bill))

    assert page.sections == ["sommario", "importi", "consumi", "dati"]
    assert page.costs.layout == "receipt_2025"
    assert [item.category for item in page.costs.items][:3] == ["consumption_quota", "fixed_quota", "power_quota"]
    quota = page.costs.items[0]
    assert (quota.quantity, quota.unit, quota.unit_price) == (Decimal("10000"), "kWh", Decimal("0.280000"))
    assert quota.share == Decimal("68.6")
    assert page.consumption.bands == [("F1", Decimal("4000")), ("F2", Decimal("3000")), ("F3", Decimal("3000"))]
    assert [reading.type for reading in page.consumption.readings] == ["estimated", "actual"]
    assert page.previous_payments is not None and not page.previous_payments.regular


def test_fatturapa_bill_hides_sections_without_data(fatturapa_bills) -> None:
    bill = bill_from(fatturapa_bills[0])

    page = build_page(summary_of(bill))

    assert page.costs.layout == "summary_2016"
    assert "importi" in page.sections and "dati" in page.sections
    assert sum(item.share or 0 for item in page.costs.items) == pytest.approx(100, abs=0.5)
    without_consumption = bill_from(fatturapa_bills[0], consumption=None)
    assert "consumi" not in build_page(summary_of(without_consumption)).sections


def test_summary_shows_the_key_facts_in_italian() -> None:
    bill = bill_from(parsed_jsonl(rich_record()))

    html = page_html(bill, "sommario")
    text = visible_text(html)

    assert "Quanto pagare" in text and "4.082,00\xa0€" in text
    assert "Entro quando" in text and "19/09/2031" in text
    assert "10.000 kWh" in text
    assert "Luce Sicura Web" in text and "libero" in text
    assert "3010 0000 0000 0123 45" in text
    assert 'role="img"' in html and "<svg" in html
    assert "Scarica PDF" in text
    assert "/scadenza.ics" in html


def test_english_summary_dates_day_first() -> None:
    bill = bill_from(parsed_jsonl(rich_record()))

    text = visible_text(page_html(bill, "sommario", "en"))

    assert "Due by 19/09/2031" in text
    assert "9/19/2031" not in text
    assert "€4,082.00" in text
    assert "01/07/2025 – 31/08/2025" in text


@pytest.mark.parametrize("section", ["sommario", "importi", "consumi", "dati"])
@pytest.mark.parametrize("language", ["it", "en", "ar"])
def test_every_section_renders_in_every_direction(section: str, language: str) -> None:
    bill = bill_from(parsed_jsonl(rich_record()))

    html = page_html(bill, section, language)

    assert f'lang="{language}"' in html
    assert ('dir="rtl"' in html) == (language == "ar")


def test_amounts_table_has_shares_and_chart_with_text() -> None:
    bill = bill_from(parsed_jsonl(rich_record()))

    html = page_html(bill, "importi", "en")
    text = visible_text(html)

    assert "Consumption quota" in text and "68.6%" in text
    assert "10,000 kWh × €0.28" in text
    assert "Average unit price: €0.31872/kWh" in text
    assert "Luce Sicura Web (LSW-24)" in text
    assert html.count("<rect") == 6  # the bonus has no bar
    assert "<desc" in html and "Consumption quota: €2,800.00" in html


def test_consumption_section_in_english() -> None:
    bill = bill_from(parsed_jsonl(rich_record()))

    text = visible_text(page_html(bill, "consumi", "en"))

    for label in ("Actual consumption", "Estimated consumption", "Billed consumption", "Annual consumption",
                  "Total annual spending", "Meter readings", "Consumption by time band", "Consumption history"):
        assert label in text
    assert "Annual consumption from 01/09/2024 to 31/08/2025" in text


def test_data_section() -> None:
    bill = bill_from(parsed_jsonl(rich_record()))

    text = visible_text(page_html(bill, "dati", "it"))

    for value in ("C0001", "RSSMRA80A41H501U", "maria.rossi@pec.example.org", "0000000", "IT001E12345678", "3,3 kW"):
        assert value in text
    assert "attivo" in text and "non attivo" in text


@pytest.mark.parametrize(("state", "expected"), [
    ("paid", "Pagata"),
    ("direct_debit", "domiciliazione bancaria"),
    ("credit_note", "nota di credito"),
])
def test_payment_states_hide_the_pay_button(state: str, expected: str) -> None:
    bill = bill_from(parsed_jsonl(rich_record()))

    html = page_html(bill, "sommario", state=state)

    assert expected in visible_text(html)
    assert "/paga" not in html
    assert "3010 0000" not in html  # no pagoPA notice once nothing is to pay


def test_overdue_bill_says_so() -> None:
    bill = bill_from(parsed_jsonl(rich_record()))

    assert "scaduta" in visible_text(page_html(bill, "sommario", overdue=True))


def test_glossary_translates_line_descriptions() -> None:
    bill = bill_from(parsed_jsonl(rich_record()))
    config = TenantConfig(portal=PortalSettings(languages=["it", "en"],
                                                glossary={"en": {"Accisa": "Excise on electricity"}}))

    text = visible_text(page_html(bill, "importi", "en", config=config))

    assert "Excise on electricity" in text


def test_browser_language_order() -> None:
    from bolletta.platform.portal.language import browser_languages

    assert browser_languages("de-DE,de;q=0.9,en;q=0.8,ar;q=0") == ("de", "de", "en")


def test_long_browser_language_header_parsed_alike() -> None:
    from bolletta.platform.portal.language import MAX_KEPT_HEADER, browser_languages

    header = "fr-CH;q=0.5," + ",".join(["xx;q=0.1"] * 40) + ",en;q=0.9"

    assert len(header) > MAX_KEPT_HEADER
    assert browser_languages(header)[:2] == ("en", "fr")
    assert browser_languages(header) == browser_languages(header)
