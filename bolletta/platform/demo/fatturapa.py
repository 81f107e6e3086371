"""Write demo bills as FatturaPA 1.2.2 ordinary invoices (``FPR12``) for private customers.

The root element carries the ``p:`` prefix and its children no namespace, as the XSD's unqualified
local elements require and as utilities' files look. Element order follows the 1.2.2 XSD.
"""

from __future__ import annotations

import base64
from decimal import Decimal

from lxml import etree

from bolletta.platform.demo.bills import (
    OUT_OF_SCOPE_REFERENCE,
    Address,
    Bill,
    Line,
    Payment,
    Person,
    Seller,
)

FATTURAPA_NS = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
TRANSMISSION_FORMAT = "FPR12"
PRIVATE_RECIPIENT_CODE = "0000000"
"""``CodiceDestinatario`` for a consumer without an SDI code or PEC."""
ORDINARY_TAX_REGIME = "RF01"
SUPPLY_ADDRESS_TYPE = "Ind.POD"
"""``AltriDatiGestionali/TipoDato`` that carries the supply address, for POD and PDR alike."""


def _add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _add_address(parent: etree._Element, address: Address) -> None:
    sede = _add(parent, "Sede")
    _add(sede, "Indirizzo", address.street)
    _add(sede, "CAP", address.postcode)
    _add(sede, "Comune", address.town)
    _add(sede, "Provincia", address.province)
    _add(sede, "Nazione", "IT")


def _add_header(root: etree._Element, seller: Seller, customer: Person, progressive: str) -> None:
    header = _add(root, "FatturaElettronicaHeader")

    transmission = _add(header, "DatiTrasmissione")
    transmitter = _add(transmission, "IdTrasmittente")
    _add(transmitter, "IdPaese", "IT")
    _add(transmitter, "IdCodice", seller.vat_number)
    _add(transmission, "ProgressivoInvio", progressive)
    _add(transmission, "FormatoTrasmissione", TRANSMISSION_FORMAT)
    _add(transmission, "CodiceDestinatario", PRIVATE_RECIPIENT_CODE)

    supplier = _add(header, "CedentePrestatore")
    supplier_data = _add(supplier, "DatiAnagrafici")
    vat_id = _add(supplier_data, "IdFiscaleIVA")
    _add(vat_id, "IdPaese", "IT")
    _add(vat_id, "IdCodice", seller.vat_number)
    _add(supplier_data, "CodiceFiscale", seller.vat_number)
    _add(_add(supplier_data, "Anagrafica"), "Denominazione", seller.name)
    _add(supplier_data, "RegimeFiscale", ORDINARY_TAX_REGIME)
    _add_address(supplier, seller.address)

    buyer = _add(header, "CessionarioCommittente")
    buyer_data = _add(buyer, "DatiAnagrafici")
    _add(buyer_data, "CodiceFiscale", customer.fiscal_code)
    names = _add(buyer_data, "Anagrafica")
    _add(names, "Nome", customer.first_name)
    _add(names, "Cognome", customer.surname)
    _add_address(buyer, customer.address)


def _add_general_data(body: etree._Element, bill: Bill) -> None:
    general = _add(body, "DatiGenerali")
    document = _add(general, "DatiGeneraliDocumento")
    _add(document, "TipoDocumento", bill.document_type)
    _add(document, "Divisa", "EUR")
    _add(document, "Data", bill.issue_date.isoformat())
    _add(document, "Numero", bill.number)
    _add(document, "ImportoTotaleDocumento", _money(bill.total))
    _add(document, "Causale", bill.reason)
    if bill.related_invoice is not None:
        related = _add(general, "DatiFattureCollegate")
        _add(related, "IdDocumento", bill.related_invoice[0])
        _add(related, "Data", bill.related_invoice[1].isoformat())


def _add_line(parent: etree._Element, number: int, line: Line, bill: Bill) -> None:
    detail = _add(parent, "DettaglioLinee")
    _add(detail, "NumeroLinea", str(number))
    article = _add(detail, "CodiceArticolo")
    _add(article, "CodiceTipo", bill.supply_point_type)
    _add(article, "CodiceValore", bill.supply_point)
    _add(detail, "Descrizione", line.description)
    if line.quantity is not None:
        _add(detail, "Quantita", f"{line.quantity:.2f}")
    if line.unit is not None:
        _add(detail, "UnitaMisura", line.unit)
    _add(detail, "DataInizioPeriodo", bill.period_from.isoformat())
    _add(detail, "DataFinePeriodo", bill.period_to.isoformat())
    _add(detail, "PrezzoUnitario", f"{line.unit_price:.6f}")
    _add(detail, "PrezzoTotale", _money(line.total))
    _add(detail, "AliquotaIVA", f"{line.vat_rate:.2f}")
    if line.nature is not None:
        _add(detail, "Natura", line.nature)
    other = _add(detail, "AltriDatiGestionali")
    _add(other, "TipoDato", SUPPLY_ADDRESS_TYPE)
    _add(other, "RiferimentoTesto", bill.supply_address)


def _add_goods_and_services(body: etree._Element, bill: Bill) -> None:
    goods = _add(body, "DatiBeniServizi")
    for number, line in enumerate(bill.lines, start=1):
        _add_line(goods, number, line, bill)
    for summary in bill.vat_summaries():
        recap = _add(goods, "DatiRiepilogo")
        _add(recap, "AliquotaIVA", f"{summary.rate:.2f}")
        if summary.nature is not None:
            _add(recap, "Natura", summary.nature)
        _add(recap, "ImponibileImporto", _money(summary.taxable))
        _add(recap, "Imposta", _money(summary.tax))
        if summary.nature is None:
            # Immediate VAT chargeability, the usual case for supplies to consumers.
            _add(recap, "EsigibilitaIVA", "I")
        else:
            _add(recap, "RiferimentoNormativo", OUT_OF_SCOPE_REFERENCE)


def _add_payment(body: etree._Element, payment: Payment, seller: Seller) -> None:
    block = _add(body, "DatiPagamento")
    _add(block, "CondizioniPagamento", payment.terms)
    for instalment in payment.instalments:
        detail = _add(block, "DettaglioPagamento")
        _add(detail, "Beneficiario", seller.name)
        _add(detail, "ModalitaPagamento", payment.method)
        _add(detail, "DataScadenzaPagamento", instalment.due_date.isoformat())
        _add(detail, "ImportoPagamento", _money(instalment.amount))
        if payment.iban is not None:
            _add(detail, "IstitutoFinanziario", seller.bank)
            _add(detail, "IBAN", payment.iban)
        if payment.notice_code is not None:
            _add(detail, "CodicePagamento", payment.notice_code)


def attachment_name(bill: Bill) -> str:
    """Return the PDF name for ``bill``: its document number with ``/`` replaced by ``_``."""
    return bill.number.replace("/", "_") + ".pdf"


def _add_attachment(body: etree._Element, bill: Bill, pdf: bytes) -> None:
    attachment = _add(body, "Allegati")
    _add(attachment, "NomeAttachment", attachment_name(bill))
    _add(attachment, "FormatoAttachment", "PDF")
    _add(attachment, "DescrizioneAttachment", "Bolletta in formato PDF")
    _add(attachment, "Attachment", base64.b64encode(pdf).decode("ascii"))


def render_invoice_file(
    seller: Seller, customer: Person, bills: list[Bill], progressive: str, pdfs: dict[str, bytes]
) -> bytes:
    """Return one FatturaPA file holding ``bills`` (several make a batch) for one customer.

    ``pdfs`` maps a document number to the PDF to attach to that bill. Bills not in it get none.
    """
    root = etree.Element(
        f"{{{FATTURAPA_NS}}}FatturaElettronica",
        nsmap={"p": FATTURAPA_NS, "ds": XMLDSIG_NS, "xsi": XSI_NS},
        versione=TRANSMISSION_FORMAT,
    )
    _add_header(root, seller, customer, progressive)
    for bill in bills:
        body = _add(root, "FatturaElettronicaBody")
        _add_general_data(body, bill)
        _add_goods_and_services(body, bill)
        if bill.payment is not None:
            _add_payment(body, bill.payment, seller)
        if bill.number in pdfs:
            _add_attachment(body, bill, pdfs[bill.number])
    # lxml writes the declaration with single quotes, but utilities' files use double quotes.
    return XML_DECLARATION + etree.tostring(root, xml_declaration=False, encoding="UTF-8", pretty_print=True)
