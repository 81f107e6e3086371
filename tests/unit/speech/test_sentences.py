"""The read-aloud text: who bills, which period, how much, by when, how to pay, earlier payments."""

from __future__ import annotations

from bolletta.platform.portal.page import build_context
from bolletta.platform.speech.sentences import compose
from bolletta.tenants.config import PortalSettings, TenantConfig
from tests.unit.portal.bills import TENANT, bill_from, parsed_jsonl, rich_record, summary_of

CONFIG = TenantConfig(portal=PortalSettings(languages=["it", "en", "de", "fr", "es", "ro", "ar"]))


def speech(language: str, state: str = "payable", **fields) -> str:
    bill = bill_from(parsed_jsonl(rich_record()))
    return compose(build_context(summary_of(bill, state, **fields), TENANT.name, CONFIG, language), "ACME Energia")


def test_italian_sentences() -> None:
    assert speech("it") == (
        "Questa è la bolletta della luce di ACME Energia. "
        "Riguarda il periodo dal 1 luglio 2025 al 31 agosto 2025. "
        "L'importo da pagare è 4.082,00\xa0€, entro il 19 settembre 2031. "
        "Puoi pagare online da questa pagina oppure con pagoPA. "
        "Alcune bollette precedenti non risultano pagate."
    )


def test_english_sentences() -> None:
    text = speech("en")

    assert text.startswith("This is your electricity bill from ACME Energia. It covers the period from 1 July 2025")
    assert "The amount to pay is €4,082.00, by 19 September 2031." in text


def test_paid_and_direct_debit_and_overdue() -> None:
    assert "già stata pagata" in speech("it", "paid")
    assert "addebito diretto" in speech("it", "direct_debit", gateways=[])
    assert "La scadenza è passata" in speech("it", overdue=True)


def test_every_page_language_has_its_own_sentences() -> None:
    texts = {language: speech(language) for language in ("it", "en", "de", "fr", "es", "ro", "ar")}

    assert len(set(texts.values())) == 7
    assert "ACME Energia" in texts["ar"] and "هذه فاتورة الكهرباء" in texts["ar"]
