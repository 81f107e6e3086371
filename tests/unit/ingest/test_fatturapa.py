"""FatturaPA reader against the public samples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bolletta.platform.i18n.message import Text, render
from bolletta.platform.ingest.fatturapa import read_fatturapa

RIEPILOGO = "oca_l10n_italy/IT05979361218_ripilogoiva.xml"


def read_sample(samples_dir: Path, relative: str, **options: object):
    path = samples_dir / "fatturapa" / relative
    return read_fatturapa(path.read_bytes(), path.name, **options)  # type: ignore[arg-type]


def italian(texts: list[Text]) -> list[str]:
    """The warnings or reasons as the backoffice shows them in Italian."""
    return [render(text) for text in texts]


def test_electricity_bill_fields(samples_dir: Path) -> None:
    bills, rejected = read_sample(samples_dir, RIEPILOGO)
    assert rejected == []
    [bill] = bills
    assert bill.document_number == "GR20-900443E"
    assert bill.issue_date == date(2020, 10, 6)
    assert bill.series == ""
    assert bill.year == 2020
    assert bill.total == Decimal("204.16")
    assert bill.amount_due == Decimal("204.16")
    assert bill.due_date == date(2020, 11, 5)
    assert bill.payment_method == "MP05"
    assert bill.direct_debit is False
    assert bill.instalments[0].iban == "IT64C0310401600000000770885"
    assert bill.service == "electricity"
    assert bill.pod == "IT001E14607435"
    assert bill.supply_address == "VIA TRIESTE, 47 - 21020 BUGUGGIATE (VA)"
    assert bill.customer_code == "03533590174"
    assert bill.customer_name == "BETA GAMMA"
    assert bill.customer_address == "VIA TORINO 38-B, 00145 ROMA (RM)"
    assert bill.seller_vat == "IT02780790107"
    assert bill.period_from == date(2020, 9, 1)
    assert bill.period_to == date(2020, 9, 30)
    assert bill.warnings == []


def test_electricity_consumption_counts_supply_only(samples_dir: Path) -> None:
    [bill], _ = read_sample(samples_dir, RIEPILOGO)
    # Three lines carry 905 kWh (excise, transport, energy); only the energy line counts.
    assert bill.consumption == Decimal("905.00")
    assert bill.consumption_unit == "kWh"


def test_electricity_cost_categories(samples_dir: Path) -> None:
    [bill], _ = read_sample(samples_dir, RIEPILOGO)
    by_category: dict[str, Decimal] = {}
    for cost in bill.costs:
        by_category[cost.category] = by_category.get(cost.category, Decimal(0)) + cost.amount
    assert by_category == {
        "excise": Decimal("11.31"),
        "transport_meter": Decimal("79.41"),
        "supply": Decimal("73.74"),
        "other": Decimal("3.52"),
        "vat": Decimal("36.18"),
    }
    vat_lines = [cost for cost in bill.costs if cost.category == "vat"]
    assert [cost.amount for cost in vat_lines] == [Decimal("36.18"), Decimal("0.00")]
    assert bill.costs[0].unit_price == Decimal("0.01249724")


def test_batch_file_yields_two_bills(samples_dir: Path) -> None:
    bills, rejected = read_sample(samples_dir, "official_samples/v1.2.2/IT01234567890_FPR03.xml")
    assert rejected == []
    assert [bill.body_index for bill in bills] == [1, 2]
    first, second = bills
    assert first.document_number == "123"
    assert first.issue_date == date(2014, 12, 18)
    assert first.amount_due == Decimal("32.95")
    assert first.due_date == date(2015, 1, 30)
    assert first.payment_method == "MP01"
    assert first.direct_debit is False
    assert second.document_number == "456"
    assert second.issue_date == date(2014, 12, 20)
    assert second.amount_due == Decimal("2440.00")
    assert second.due_date == date(2015, 1, 28)
    assert second.payment_method == "MP19"
    assert second.direct_debit is True
    assert first.customer_code == second.customer_code == "09876543210"
    assert first.seller_name == "SOCIETA' ALPHA SRL"


def test_second_body_quantity_missing_is_none(samples_dir: Path) -> None:
    [_, second], _ = read_sample(samples_dir, "official_samples/v1.2.2/IT01234567890_FPR03.xml")
    assert second.costs[0].quantity is None
    assert second.consumption is None


def test_pdf_attachments_decoded(samples_dir: Path) -> None:
    [bill], rejected = read_sample(samples_dir, "oca_l10n_italy/IT06363391001_00003.xml")
    assert rejected == []
    assert [attachment.name for attachment in bill.attachments] == ["test1.pdf", "test2.pdf"]
    for attachment in bill.attachments:
        assert attachment.content.startswith(b"%PDF")
        assert len(attachment.content) == 7945


def test_attachment_over_cap_is_warning(samples_dir: Path) -> None:
    [bill], rejected = read_sample(
        samples_dir, "oca_l10n_italy/IT06363391001_00003.xml", attachment_max_bytes=1000
    )
    assert rejected == []
    assert bill.attachments == []
    too_large = [warning for warning in italian(bill.warnings) if "è troppo grande" in warning]
    assert len(too_large) == 2
    for warning in too_large:
        assert "più del limite di 1000 byte. È stato tralasciato." in warning
        assert warning.endswith("Invia il PDF come file a parte nell'archivio.")


def test_non_pdf_attachment_skipped(samples_dir: Path) -> None:
    [bill], _ = read_sample(samples_dir, "simevo/IT01234567890_FPR04.xml")
    assert bill.attachments == []
    assert any("non è né un PDF né uno ZIP di PDF" in warning for warning in italian(bill.warnings))


def test_windows_1252_text_decoded(samples_dir: Path) -> None:
    path = samples_dir / "fatturapa" / RIEPILOGO
    data = path.read_bytes().replace(b'encoding="UTF-8"', b'encoding="windows-1252"')
    data = data.replace(b"BETA GAMMA", "Società Ëuro €".encode("cp1252"))
    [bill], rejected = read_fatturapa(data, "cp1252.xml")
    assert rejected == []
    assert bill.customer_name == "Società Ëuro €"


def test_sample_windows_1252_batch(samples_dir: Path) -> None:
    bills, rejected = read_sample(samples_dir, "fatturaelettronica_net/IT02182030391_32.windows-1252.xml")
    assert rejected == []
    assert len(bills) == 2
    assert bills[0].seller_name == "Azienda di esempio"


def test_bom_and_q1_prefix(samples_dir: Path) -> None:
    path = samples_dir / "fatturapa" / "oca_l10n_italy/IT05979361218_014.xml"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    [bill], rejected = read_fatturapa(path.read_bytes(), path.name)
    assert rejected == []
    assert bill.document_number


def test_unusual_prefix_and_no_declaration(samples_dir: Path) -> None:
    path = samples_dir / "fatturapa" / RIEPILOGO
    text = path.read_text(encoding="utf-8").split("\n", 1)[1]
    text = text.replace("p:FatturaElettronica", "ns3:FatturaElettronica").replace("xmlns:p=", "xmlns:ns3=")
    text = text.replace("<DatiGenerali>", "<?xml-stylesheet href='x.xsl'?><!-- note --><DatiGenerali>")
    [bill], rejected = read_fatturapa(text.encode(), "prefixed.xml")
    assert rejected == []
    assert bill.document_number == "GR20-900443E"
    assert bill.consumption == Decimal("905.00")


def test_version_1_1_warns(samples_dir: Path) -> None:
    [bill], rejected = read_sample(samples_dir, "fatturaelettronicaphp/IT01234567890_11001.xml")
    assert rejected == []
    assert any("vecchio namespace di FatturaPA 1.1" in warning for warning in italian(bill.warnings))


def test_missing_payment_uses_total(samples_dir: Path) -> None:
    path = samples_dir / "fatturapa" / RIEPILOGO
    text = path.read_text(encoding="utf-8")
    start, end = text.index("<DatiPagamento>"), text.index("</DatiPagamento>") + len("</DatiPagamento>")
    [bill], _ = read_fatturapa((text[:start] + text[end:]).encode(), "nopay.xml")
    assert bill.amount_due == Decimal("204.16")
    assert bill.due_date is None
    assert (
        "Manca DatiPagamento, quindi l'importo da pagare è ImportoTotaleDocumento e la scadenza è "
        "sconosciuta. Controlla la bolletta prima del benestare."
    ) in italian(bill.warnings)


def test_instalments_sorted_and_pagopa(samples_dir: Path) -> None:
    path = samples_dir / "fatturapa" / RIEPILOGO
    text = path.read_text(encoding="utf-8")
    second = (
        "<DettaglioPagamento><ModalitaPagamento>MP23</ModalitaPagamento>"
        "<DataScadenzaPagamento>2020-10-20</DataScadenzaPagamento><ImportoPagamento>10.00</ImportoPagamento>"
        "<CodicePagamento>301000000012345688</CodicePagamento></DettaglioPagamento></DatiPagamento>"
    )
    [bill], _ = read_fatturapa(text.replace("</DatiPagamento>", second).encode(), "two.xml")
    assert [item.due_date for item in bill.instalments] == [date(2020, 10, 20), date(2020, 11, 5)]
    assert bill.due_date == date(2020, 10, 20)
    assert bill.amount_due == Decimal("214.16")
    assert bill.instalments[0].notice_code == "301000000012345688"
    assert bill.payment_method == "MP23"


def test_series_pattern_and_customer_code_source(samples_dir: Path) -> None:
    [bill], _ = read_sample(
        samples_dir,
        RIEPILOGO,
        series_pattern=r"(?P<series>[A-Z]+)(?P<year>\d{2})-\d+E",
        customer_code_source="altri_dati:Ind.POD",
    )
    assert bill.series == "GR"
    assert bill.year == 2020
    assert bill.customer_code == "VIA TRIESTE, 47 - 21020 BUGUGGIATE (VA)"


def test_contract_customer_code(samples_dir: Path) -> None:
    [bill], _ = read_sample(samples_dir, RIEPILOGO, customer_code_source="id_documento_contratto")
    assert bill.customer_code == "GR20-900443E"


def test_missing_altri_dati_rejects_body(samples_dir: Path) -> None:
    bills, rejected = read_sample(samples_dir, RIEPILOGO, customer_code_source="altri_dati:CODCLI")
    assert bills == []
    assert rejected[0].record == "1"
    reason = render(rejected[0].reason)
    assert reason.startswith(
        "IT05979361218_ripilogoiva.xml, corpo 1 scartato: nessuna riga ha AltriDatiGestionali con "
        "TipoDato 'codcli'"
    )
    assert "chiedi al gestore della piattaforma di leggere il codice cliente da un altro campo" in reason


def test_bad_customer_code_source_raises() -> None:
    with pytest.raises(ValueError, match="customer_code_source"):
        read_fatturapa(b"<x/>", "x.xml", customer_code_source="nonsense")


# The Italian reason each file is rejected with, as staff read it in the job report.
REJECTED_FILES = {
    "invalid/IT01234567890_FPA01_bad_v122.xml": "non ha FatturaElettronicaBody",
    "invalid/malformed.xml": "non è un XML ben formato",
    "invalid/missing_CedentePrestatore.xml": "manca il fornitore (CedentePrestatore)",
    "invalid/missing_CessionarioCommittente.xml": "manca il cliente (CessionarioCommittente)",
    "invalid/missing_DatiGenerali.xml": "manca il numero del documento",
    "invalid/missing_DatiGeneraliDocumento.xml": "manca il numero del documento",
    "invalid/missing_DatiGeneraliDocumento_Data.xml": "manca la data di emissione",
    "invalid/missing_DatiGeneraliDocumento_Numero.xml": "manca il numero del documento",
    "invalid/missing_FatturaElettronicaBody.xml": "non ha FatturaElettronicaBody",
    "invalid/missing_FatturaElettronicaHeader.xml": "non ha FatturaElettronicaHeader",
    "malicious/billion_laughs.xml": "contiene una dichiarazione DOCTYPE",
    "malicious/embedded_schema.xml": "contiene una dichiarazione DOCTYPE",
    "malicious/entity_expansion.xml": "contiene una dichiarazione DOCTYPE",
    "malicious/quadratic_blowup.xml": "contiene una dichiarazione DOCTYPE",
    "malicious/recursive_entity.xml": "contiene una dichiarazione DOCTYPE",
    "malicious/small_jumbo.xml": "contiene una dichiarazione DOCTYPE",
    "malicious/jumbo_Causale.xml": "caratteri di testo fuori dagli allegati",
    "malicious/jumbo_FatturaElettronicaHeader.xml": "Jumbo contiene più di",
}

# The fix that ends each rejection reason above.
REJECTION_FIXES = (
    "Correggi l'esportazione dal sistema di fatturazione.",
    "Esporta di nuovo il file senza.",
    "Esporta di nuovo il file dal sistema di fatturazione.",
)

# Files in invalid/ that miss only data the smart bill can do without: they import with a warning.
IMPORTED_WITH_WARNING = {
    "invalid/missing_DatiTrasmissione.xml": "Il file non ha il blocco DatiTrasmissione",
    "invalid/missing_DatiGeneraliDocumento_Divisa.xml": "Manca Divisa",
    "invalid/missing_DatiGeneraliDocumento_TipoDocumento.xml": "Manca TipoDocumento",
    "invalid/missing_DatiBeniServizi.xml": "Manca DatiBeniServizi",
}


@pytest.mark.parametrize(("relative", "reason"), sorted(REJECTED_FILES.items()))
def test_bad_file_rejected(samples_dir: Path, relative: str, reason: str) -> None:
    bills, rejected = read_sample(samples_dir, relative)
    assert bills == []
    assert len(rejected) == 1
    italian_reason = render(rejected[0].reason)
    assert reason in italian_reason
    assert italian_reason.startswith(Path(relative).name)
    assert italian_reason.endswith(REJECTION_FIXES)


@pytest.mark.parametrize(("relative", "warning"), sorted(IMPORTED_WITH_WARNING.items()))
def test_optional_gap_imports_with_warning(samples_dir: Path, relative: str, warning: str) -> None:
    [bill], rejected = read_sample(samples_dir, relative)
    assert rejected == []
    assert any(warning in text for text in italian(bill.warnings))


def test_every_bad_sample_is_covered(samples_dir: Path) -> None:
    root = samples_dir / "fatturapa"
    listed = set(REJECTED_FILES) | set(IMPORTED_WITH_WARNING)
    # These miss only transmission data or are valid; the exchange system data is not needed here.
    transmission_only = {
        "invalid/IT01234567890_FPR01.xml",
        "invalid/missing_CodiceDestinatario.xml",
        "invalid/missing_FormatoTrasmissione.xml",
        "invalid/missing_IdTrasmittente.xml",
        "invalid/missing_IdTrasmittente_IdCodice.xml",
        "invalid/missing_IdTrasmittente_IdPaese.xml",
        "invalid/missing_ProgressivoInvio.xml",
    }
    found = {
        str(path.relative_to(root))
        for folder in ("invalid", "malicious")
        for path in (root / folder).glob("*.xml")
    }
    assert found == listed | transmission_only
    for relative in transmission_only:
        bills, rejected = read_sample(samples_dir, relative)
        assert len(bills) == 1, relative
        assert rejected == [], relative


def test_doctype_content_never_leaks(samples_dir: Path) -> None:
    _, rejected = read_sample(samples_dir, "malicious/entity_expansion.xml")
    reason = render(rejected[0].reason)
    assert "root:" not in reason
    assert "/etc/passwd" not in reason


def test_doctype_after_comment_rejected() -> None:
    data = b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- c --><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
    _, rejected = read_fatturapa(data, "sneaky.xml")
    assert render(rejected[0].reason) == (
        "sneaky.xml è stato scartato: contiene una dichiarazione DOCTYPE, che non è mai accettata nei "
        "caricamenti. Esporta di nuovo il file senza."
    )


def test_not_fatturapa_root_rejected() -> None:
    _, rejected = read_fatturapa(b"<note><to>x</to></note>", "note.xml")
    assert render(rejected[0].reason) == (
        "note.xml è stato scartato: non è una fattura FatturaPA, perché l'elemento radice è 'note'. "
        "Invia come file .xml solo fatture FatturaPA."
    )


def test_namespace_with_brace_read_with_warning(samples_dir: Path) -> None:
    # A "}" inside the namespace URI is legal XML that lxml's QName refuses, so the reader must not use it.
    data = (samples_dir / "fatturapa" / RIEPILOGO).read_bytes().replace(
        b'="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"',
        b'="}http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"', 1,
    )
    assert b'"}http' in data

    [bill], rejected = read_fatturapa(data, "graffa.xml")

    assert rejected == []
    assert bill.document_number == "GR20-900443E"
    assert any("'}http://ivaservizi.agenziaentrate.gov.it" in line for line in italian(bill.warnings))
