"""The demo billing flow: valid FatturaPA, consistent amounts, every case the reader must handle."""

from __future__ import annotations

import base64
import copy
import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import phonenumbers
import pytest
from lxml import etree
from stdnum import iban
from stdnum.it import codicefiscale, iva

from bolletta.platform import clock
from bolletta.platform.demo.flow import DemoFlow, build_demo_flow

from .conftest import ISSUE_DATE, InvoiceXml, amount, text, unpack

CENT = Decimal("0.01")
DOCUMENT_NUMBER = re.compile(r"^2026/[EGN]/\d{6}$")
ARERA_ELECTRICITY = {
    "Spesa per la materia energia",
    "Spesa per il trasporto e la gestione del contatore",
    "Spesa per oneri di sistema",
    "Accisa sull'energia elettrica",
}
ARERA_GAS = {
    "Spesa per la materia gas naturale",
    "Spesa per il trasporto e la gestione del contatore",
    "Spesa per oneri di sistema",
    "Accisa sul gas naturale",
    "Addizionale regionale",
}


def document_field(body: etree._Element, name: str) -> str:
    return text(body, f"DatiGenerali/DatiGeneraliDocumento/{name}")


def customer_code(root: etree._Element) -> str:
    return text(root, "FatturaElettronicaHeader/CessionarioCommittente/DatiAnagrafici/CodiceFiscale")


def total_of(elements: list[etree._Element], path: str) -> Decimal:
    return sum((amount(element, path) for element in elements), Decimal(0))


def payment_details(body: etree._Element) -> list[etree._Element]:
    return body.findall("DatiPagamento/DettaglioPagamento")


def methods(bodies: list[etree._Element]) -> list[str]:
    return [text(detail, "ModalitaPagamento") for body in bodies for detail in payment_details(body)]


def supply_point(body: etree._Element) -> tuple[str, str]:
    article = body.find("DatiBeniServizi/DettaglioLinee/CodiceArticolo")
    assert article is not None
    return text(article, "CodiceTipo"), text(article, "CodiceValore")


# Schema and identifiers


def test_every_xml_validates_against_xsd(
    invoices: list[InvoiceXml], fatturapa_schema: etree.XMLSchema
) -> None:
    assert invoices
    for invoice in invoices:
        assert fatturapa_schema.validate(invoice.root), f"{invoice.name}: {fatturapa_schema.error_log}"


def test_schema_rejects_reordered_elements(
    invoices: list[InvoiceXml], fatturapa_schema: etree.XMLSchema
) -> None:
    broken = copy.deepcopy(invoices[0].root)
    header = broken.find("FatturaElettronicaHeader")
    assert header is not None
    header.append(header[0])  # DatiTrasmissione after CessionarioCommittente
    assert not fatturapa_schema.validate(broken)


@pytest.mark.parametrize("seed", [1, 7, 99])
def test_other_seeds_validate(seed: int, fatturapa_schema: etree.XMLSchema) -> None:
    invoices, _ = unpack(build_demo_flow(seed=seed, issue_date=date(2027, 1, 15), customers=8))
    for invoice in invoices:
        assert fatturapa_schema.validate(invoice.root), f"{seed}/{invoice.name}: {fatturapa_schema.error_log}"


def test_root_is_fpr12_with_p_prefix(invoices: list[InvoiceXml]) -> None:
    for invoice in invoices:
        assert invoice.root.prefix == "p"
        assert invoice.root.get("versione") == "FPR12"
        assert text(invoice.root, "FatturaElettronicaHeader/DatiTrasmissione/FormatoTrasmissione") == "FPR12"


def test_seller_vat_number_valid(invoices: list[InvoiceXml]) -> None:
    for invoice in invoices:
        header = invoice.root.find("FatturaElettronicaHeader")
        assert header is not None
        vat = text(header, "CedentePrestatore/DatiAnagrafici/IdFiscaleIVA/IdCodice")
        assert iva.is_valid(vat), vat
        seller_name = text(header, "CedentePrestatore/DatiAnagrafici/Anagrafica/Denominazione")
        assert seller_name == "ACME Energia S.p.A."
        assert text(header, "DatiTrasmissione/IdTrasmittente/IdCodice") == vat
        assert invoice.name == f"IT{vat}_{text(header, 'DatiTrasmissione/ProgressivoInvio')}.xml"


def test_customer_fiscal_codes_valid(invoices: list[InvoiceXml], demo_flow: DemoFlow) -> None:
    for invoice in invoices:
        code = customer_code(invoice.root)
        assert codicefiscale.is_valid(code), code
    for customer in demo_flow.customers:
        assert codicefiscale.is_valid(customer.fiscal_code), customer.fiscal_code
        assert customer.code == customer.fiscal_code


def test_bank_transfer_iban_valid(bodies: list[etree._Element]) -> None:
    transfers = [detail for body in bodies for detail in payment_details(body)]
    transfers = [detail for detail in transfers if text(detail, "ModalitaPagamento") == "MP05"]
    assert transfers
    for detail in transfers:
        number = text(detail, "IBAN")
        assert number.startswith("IT")
        assert iban.is_valid(number), number


def test_supply_points_well_formed(bodies: list[etree._Element]) -> None:
    for body in bodies:
        kind, code = supply_point(body)
        if kind == "POD":
            assert re.fullmatch(r"IT001E\d{8}", code), code
        else:
            assert kind == "PDR"
            assert re.fullmatch(r"\d{14}", code), code


def test_every_line_has_supply_point_and_address(bodies: list[etree._Element]) -> None:
    for body in bodies:
        for line in body.iterfind("DatiBeniServizi/DettaglioLinee"):
            assert line.find("CodiceArticolo/CodiceValore") is not None
            assert text(line, "AltriDatiGestionali/TipoDato") == "Ind.POD"
            assert text(line, "AltriDatiGestionali/RiferimentoTesto")
            assert text(line, "DataInizioPeriodo") < text(line, "DataFinePeriodo")


# Amounts


def test_total_is_lines_plus_vat(bodies: list[etree._Element]) -> None:
    for body in bodies:
        lines_sum = total_of(body.findall("DatiBeniServizi/DettaglioLinee"), "PrezzoTotale")
        summaries = body.findall("DatiBeniServizi/DatiRiepilogo")
        taxable = total_of(summaries, "ImponibileImporto")
        tax = total_of(summaries, "Imposta")
        total = Decimal(document_field(body, "ImportoTotaleDocumento"))
        assert taxable == lines_sum
        assert total == lines_sum + tax
        assert total > 0


def test_vat_is_ten_percent_of_taxable(bodies: list[etree._Element]) -> None:
    for body in bodies:
        summaries = body.findall("DatiBeniServizi/DatiRiepilogo")
        rates = {text(summary, "AliquotaIVA") for summary in summaries}
        assert "10.00" in rates
        for summary in summaries:
            rate = amount(summary, "AliquotaIVA")
            expected = (amount(summary, "ImponibileImporto") * rate / 100).quantize(CENT, ROUND_HALF_UP)
            assert amount(summary, "Imposta") == expected
            if rate == 0:
                assert text(summary, "Natura") == "N2.2"


def test_line_total_is_quantity_times_price(bodies: list[etree._Element]) -> None:
    for body in bodies:
        for line in body.iterfind("DatiBeniServizi/DettaglioLinee"):
            product = amount(line, "Quantita") * amount(line, "PrezzoUnitario")
            assert amount(line, "PrezzoTotale") == product.quantize(CENT, ROUND_HALF_UP)


def test_instalments_sum_to_total(bodies: list[etree._Element]) -> None:
    paid = [body for body in bodies if body.find("DatiPagamento") is not None]
    assert paid
    for body in paid:
        total = Decimal(document_field(body, "ImportoTotaleDocumento"))
        assert total_of(payment_details(body), "ImportoPagamento") == total


# Cases the flow must carry


def test_bill_count_and_numbers(demo_flow: DemoFlow, bodies: list[etree._Element]) -> None:
    numbers = [document_field(body, "Numero") for body in bodies]
    assert numbers == demo_flow.document_numbers
    assert len(numbers) == 8
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert DOCUMENT_NUMBER.match(number), number


def test_series_match_document_kind(bodies: list[etree._Element]) -> None:
    for body in bodies:
        number = document_field(body, "Numero")
        document_type = document_field(body, "TipoDocumento")
        kind, _ = supply_point(body)
        if document_type == "TD04":
            assert "/N/" in number
        elif kind == "POD":
            assert "/E/" in number
        else:
            assert "/G/" in number


def test_electricity_lines_use_arera_wording(bodies: list[etree._Element]) -> None:
    electricity = [
        body
        for body in bodies
        if supply_point(body)[0] == "POD" and document_field(body, "TipoDocumento") == "TD01"
    ]
    assert len(electricity) == 5
    with_tv_licence = 0
    for body in electricity:
        lines = body.findall("DatiBeniServizi/DettaglioLinee")
        descriptions = {text(line, "Descrizione") for line in lines}
        assert descriptions >= ARERA_ELECTRICITY
        kwh = {text(line, "Quantita") for line in lines if text(line, "Descrizione") in ARERA_ELECTRICITY}
        assert len(kwh) == 1, "energy, transport, system charges and excise bill the same kWh"
        for line in lines:
            if text(line, "Descrizione") in ARERA_ELECTRICITY:
                assert text(line, "UnitaMisura") == "kWh"
        if "Canone di abbonamento alla televisione per uso privato" in descriptions:
            with_tv_licence += 1
    assert with_tv_licence >= 1


def test_gas_lines_use_arera_wording(bodies: list[etree._Element]) -> None:
    gas = [body for body in bodies if supply_point(body)[0] == "PDR"]
    assert len(gas) == 2
    for body in gas:
        lines = body.findall("DatiBeniServizi/DettaglioLinee")
        assert {text(line, "Descrizione") for line in lines} == ARERA_GAS
        for line in lines:
            assert text(line, "UnitaMisura") == "Smc"


def test_batch_file_holds_two_bills_of_one_customer(invoices: list[InvoiceXml]) -> None:
    batches = [invoice for invoice in invoices if len(invoice.bodies) > 1]
    assert len(batches) == 1
    batch = batches[0]
    assert len(batch.bodies) == 2
    kinds = sorted(supply_point(body)[0] for body in batch.bodies)
    assert kinds == ["PDR", "POD"]


def test_credit_note_present(bodies: list[etree._Element]) -> None:
    notes = [body for body in bodies if document_field(body, "TipoDocumento") == "TD04"]
    assert len(notes) == 1
    note = notes[0]
    total = Decimal(document_field(note, "ImportoTotaleDocumento"))
    assert Decimal("0") < total < Decimal("50")
    for line in note.iterfind("DatiBeniServizi/DettaglioLinee"):
        assert amount(line, "PrezzoTotale") > 0
    assert text(note, "DatiGenerali/DatiFattureCollegate/IdDocumento")
    assert note.find("DatiPagamento") is None


def test_two_instalment_bill_present(bodies: list[etree._Element]) -> None:
    split = [body for body in bodies if len(payment_details(body)) == 2]
    assert len(split) == 1
    details = payment_details(split[0])
    assert text(split[0], "DatiPagamento/CondizioniPagamento") == "TP01"
    due_dates = [text(detail, "DataScadenzaPagamento") for detail in details]
    assert due_dates[0] < due_dates[1]


def test_direct_debit_bill_present(bodies: list[etree._Element]) -> None:
    assert methods(bodies).count("MP16") == 1


def test_pagopa_bill_has_notice_code(bodies: list[etree._Element]) -> None:
    pagopa = [
        detail
        for body in bodies
        for detail in payment_details(body)
        if text(detail, "ModalitaPagamento") == "MP23"
    ]
    assert len(pagopa) == 1
    code = text(pagopa[0], "CodicePagamento")
    assert re.fullmatch(r"\d{18}", code), code
    assert int(code[:16]) % 93 == int(code[16:])


def test_only_some_bills_carry_pdf(bodies: list[etree._Element]) -> None:
    with_pdf = [body for body in bodies if body.find("Allegati") is not None]
    assert 0 < len(with_pdf) < len(bodies)
    for body in with_pdf:
        number = document_field(body, "Numero")
        assert text(body, "Allegati/NomeAttachment") == number.replace("/", "_") + ".pdf"
        assert text(body, "Allegati/FormatoAttachment") == "PDF"
        content = base64.b64decode(text(body, "Allegati/Attachment"))
        assert content.startswith(b"%PDF")
        assert len(content) < 20_000


# Contacts and customers


def test_contacts_cover_every_customer(contacts_csv: bytes, demo_flow: DemoFlow) -> None:
    rows = list(csv.DictReader(io.StringIO(contacts_csv.decode("utf-8")), delimiter=";"))
    assert list(rows[0].keys()) == ["codice_cliente", "cellulare", "email", "lingua"]
    by_code = {row["codice_cliente"]: row for row in rows}
    assert len(by_code) == len(rows)
    assert set(by_code) == {customer.code for customer in demo_flow.customers}
    for customer in demo_flow.customers:
        row = by_code[customer.code]
        parsed = phonenumbers.parse(row["cellulare"], "IT")
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == customer.mobile
        assert row["email"] == customer.email
        assert row["lingua"] == "it"


def test_customer_mobiles_are_italian_mobiles(demo_flow: DemoFlow) -> None:
    for customer in demo_flow.customers:
        assert customer.mobile.startswith("+393")
        number = phonenumbers.parse(customer.mobile)
        assert phonenumbers.is_valid_number(number), customer.mobile
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def test_customer_emails_use_reserved_domains(demo_flow: DemoFlow) -> None:
    for customer in demo_flow.customers:
        assert re.fullmatch(r"[a-z]+\.[a-z]+@example\.(com|org|net)", customer.email), customer.email


def test_every_customer_has_a_bill(invoices: list[InvoiceXml], demo_flow: DemoFlow) -> None:
    billed = {customer_code(invoice.root) for invoice in invoices}
    assert billed == {customer.code for customer in demo_flow.customers}
    assert len(demo_flow.customers) == 6


# Archive


def test_same_seed_same_bytes(demo_flow: DemoFlow) -> None:
    again = build_demo_flow(seed=2026, issue_date=ISSUE_DATE)
    assert again.archive == demo_flow.archive
    assert again.document_numbers == demo_flow.document_numbers


def test_other_seed_other_flow(demo_flow: DemoFlow) -> None:
    other = build_demo_flow(seed=2027, issue_date=ISSUE_DATE)
    assert other.archive != demo_flow.archive
    assert other.customers != demo_flow.customers


def test_archive_entries_have_fixed_timestamp(demo_flow: DemoFlow) -> None:
    with zipfile.ZipFile(io.BytesIO(demo_flow.archive)) as archive:
        infos = archive.infolist()
        assert archive.testzip() is None
    assert infos[-1].filename == "contacts.csv"
    for info in infos:
        assert info.date_time == (2026, 11, 10, 6, 0, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_filename_names_issue_month(demo_flow: DemoFlow) -> None:
    assert demo_flow.filename == "ACME_emissione_2026_11.zip"


def test_issue_date_defaults_to_clock() -> None:
    with clock.use_clock(lambda: datetime(2027, 3, 31, 23, 30, tzinfo=UTC)):
        flow = build_demo_flow()
    # 23:30 UTC on 31 March is already 1 April in Rome.
    assert flow.filename == "ACME_emissione_2027_04.zip"
    assert flow.document_numbers[0].startswith("2027/")


def test_extra_customers_get_bills() -> None:
    flow = build_demo_flow(issue_date=ISSUE_DATE, customers=9)
    invoices, contacts = unpack(flow)
    assert len(flow.customers) == 9
    assert len(flow.document_numbers) == 11
    assert len(invoices) == 10
    assert contacts.count(b"\r\n") == 10


def test_too_few_customers_rejected() -> None:
    with pytest.raises(ValueError, match="at least 6"):
        build_demo_flow(customers=5)
