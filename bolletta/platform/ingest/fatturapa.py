"""Reading of FatturaPA files (versions 1.2 to 1.2.3, FPR12 and FPA12) into bills.

Each ``FatturaElettronicaBody`` becomes one ``ParsedBill``; the header (seller and customer) is shared
by the bodies of a batch. A problem with the whole file rejects the file, a problem with one body
rejects that body only, and anything optional that is missing becomes a warning on the bill. Files
in the old 1.1 namespace are read with the same mapping and a warning.

Simplified invoices (FSM10, root ``FatturaElettronicaSemplificata``) are rejected with their own
reason: they carry no payment terms, no supply point and no quantities, so they cannot become a
smart bill, and a utility that sends one has exported the wrong document type.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
from lxml import etree

from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.attachments import decode_attachment
from bolletta.platform.ingest.cost_categories import (
    RECEIPT_2025,
    CostRule,
    checked_cost_rules,
    layout_of_rules,
)
from bolletta.platform.ingest.fatturapa_lines import DEFAULT_SUPPLY_ADDRESS_TYPES, LineSummary, read_lines
from bolletta.platform.ingest.fatturapa_payments import read_payment
from bolletta.platform.ingest.fatturapa_values import BodyError, date_value, decimal_value
from bolletta.platform.ingest.records import Attachment, ParsedBill, Rejection
from bolletta.platform.ingest.safe_xml import (
    UnsafeXml,
    children,
    find,
    first_children,
    local_name,
    parse_untrusted,
    stripped_text,
    text,
)
from bolletta.platform.ingest.xsd import schema_warnings

NAMESPACE_V12 = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
NAMESPACE_V11 = "http://www.fatturapa.gov.it/sdi/fatturapa/v1.1"

MAX_TEXT_CHARS = 10_000
"""Maximum text characters in one element other than ``Attachment``. The longest FatturaPA text
type (``Descrizione``) allows 1,000 characters, so a longer text is a bloated or crafted file."""

MAX_BODY_TEXT_CHARS = 1_000_000
"""Maximum text characters in one body outside attachments."""
# NOTE: an estimate: a utility bill body with hundreds of lines stays far below it.

CUSTOMER_CODE_SOURCES = ("fiscal_code", "altri_dati:<TipoDato>", "id_documento_contratto")


class _Header(msgspec.Struct, kw_only=True):
    seller_name: str
    seller_vat: str
    customer_name: str
    fiscal_code: str | None
    vat_number: str | None
    customer_address: str | None
    warnings: list[Text]


def read_fatturapa(
    data: bytes,
    source_file: str,
    *,
    series_pattern: str | re.Pattern[str] | None = None,
    customer_code_source: str = "fiscal_code",
    attachment_max_bytes: int = 20 * 1024 * 1024,
    cost_rules: Iterable[Sequence[str]] = (),
    costs_layout: str | None = None,
    supply_address_types: Collection[str] = DEFAULT_SUPPLY_ADDRESS_TYPES,
    xsd_dir: str | Path | None = None,
) -> tuple[list[ParsedBill], list[Rejection]]:
    """Read one FatturaPA file into one bill per body, and return the bills and the rejections.

    ``series_pattern`` is a regular expression matched against the whole document number, with
    optional named groups ``series`` and ``year``. Without a pattern, or when it does not match, the
    series is empty and the year is the issue date's. ``customer_code_source`` is ``fiscal_code`` (the
    customer's ``CodiceFiscale``, else its VAT number), ``altri_dati:<TipoDato>`` (the
    ``RiferimentoTesto`` of that ``AltriDatiGestionali`` on the lines) or ``id_documento_contratto``
    (``DatiContratto/IdDocumento``).

    ``cost_rules`` is the ordered keyword table of :mod:`cost_categories` (an empty table means the
    default one of the layout). ``costs_layout`` is ``summary_2016`` or ``receipt_2025``; ``None``
    means ``receipt_2025`` when ``cost_rules`` uses a quota category, else ``summary_2016``. Every
    bill records it in ``details["costs_layout"]``, and under ``receipt_2025`` also its costs with
    their parts in ``details["receipt_costs"]``, as the JSON Lines flow does.

    ``supply_address_types`` lists the ``AltriDatiGestionali/TipoDato`` values whose
    ``RiferimentoTesto`` is the supply address, compared ignoring case and punctuation. With
    ``xsd_dir``, files in the 1.2 namespace are also validated against the official schema found
    there, and each failure becomes a warning.

    Raises:
        ValueError: ``customer_code_source``, ``series_pattern``, ``cost_rules``, ``costs_layout`` or
            ``supply_address_types`` is not valid; this is a tenant configuration error, never a
            problem of the file.
    """
    pattern = re.compile(series_pattern) if isinstance(series_pattern, str) else series_pattern
    _check_customer_code_source(customer_code_source)
    rule_list = cost_rules if isinstance(cost_rules, tuple) else list(cost_rules)
    layout = costs_layout or layout_of_rules(rule_list)
    rules = _checked_rules(rule_list, layout)
    if isinstance(supply_address_types, str) or not all(
        isinstance(value, str) and value.strip() for value in supply_address_types
    ):
        raise ValueError(f"supply_address_types must be a list of TipoDato values, not {supply_address_types!r}")

    def reject(reason: Text, field: str | None = None) -> tuple[list[ParsedBill], list[Rejection]]:
        return [], [Rejection(file=source_file, reason=reason.with_params(file=source_file), field=field)]

    try:
        root = parse_untrusted(data)
    except UnsafeXml as exc:
        return reject(exc.text)

    if local_name(root) != "FatturaElettronica":
        if local_name(root) == "FatturaElettronicaSemplificata":
            return reject(
                T_(
                    "{file} was rejected: it is a simplified invoice (FatturaElettronicaSemplificata), "
                    "which has no payment terms, supply point or quantities for a smart bill. Export the "
                    "bill as an ordinary FatturaPA invoice (FPR12 or FPA12)."
                )
            )
        return reject(
            T_(
                "{file} was rejected: it is not a FatturaPA invoice, because the root element is {root}. "
                "Send only FatturaPA invoices as .xml files.",
                root=repr(local_name(root)),
            )
        )

    oversized = _oversized_element(root, len(data))
    if oversized is not None:
        return reject(
            T_(
                "{file} was rejected: element {element} contains more than {limit} characters of text, "
                "far beyond what FatturaPA allows. Correct the billing export.",
                element=oversized,
                limit=MAX_TEXT_CHARS,
            ),
            field=oversized,
        )

    header_element = find(root, "FatturaElettronicaHeader")
    try:
        header = _read_header(header_element)
    except BodyError as exc:
        return reject(exc.reason, field=exc.field)
    header.warnings[:0] = _namespace_warnings(root)
    if xsd_dir and _namespace(root) == NAMESPACE_V12:
        header.warnings.extend(schema_warnings(root, xsd_dir))

    bodies = list(children(root, "FatturaElettronicaBody"))
    if not bodies:
        return reject(
            T_(
                "{file} was rejected: it has no FatturaElettronicaBody, so it contains no bill. "
                "Correct the billing export."
            ),
            field="FatturaElettronicaBody",
        )

    bills: list[ParsedBill] = []
    rejected: list[Rejection] = []
    for index, body in enumerate(bodies, start=1):
        try:
            bill = _read_body(
                body,
                header,
                source_file=source_file,
                index=index,
                file_bytes=len(data),
                pattern=pattern,
                customer_code_source=customer_code_source,
                attachment_max_bytes=attachment_max_bytes,
                cost_rules=rules,
                costs_layout=layout,
                supply_address_types=supply_address_types,
            )
        except BodyError as exc:
            reason = exc.reason.with_params(file=source_file, body=index)
            rejected.append(Rejection(file=source_file, record=str(index), field=exc.field, reason=reason))
            continue
        bills.append(bill)
    return bills, rejected


_last_checked_rules: tuple[Sequence[Sequence[str]], str, tuple[CostRule, ...]] | None = None
"""The last tuple of rules checked, its layout and the result, reused while a flow passes the same tuple."""


def _checked_rules(rules: Sequence[Sequence[str]], layout: str) -> tuple[CostRule, ...]:
    """Return :func:`checked_cost_rules` of ``rules``, checked once per table rather than per file."""
    global _last_checked_rules
    last = _last_checked_rules
    # The reference to the tuple kept in ``last`` stops its id from passing to another object.
    if last is not None and last[0] is rules and last[1] == layout:
        return last[2]
    if all(isinstance(rule, tuple) for rule in rules):
        try:
            checked = _checked_rules_cached(tuple(rules), layout)
        except TypeError:  # a rule holds something unhashable: the uncached check names it
            pass
        else:
            if isinstance(rules, tuple):
                _last_checked_rules = (rules, layout, checked)
            return checked
    return checked_cost_rules(rules, layout)


@functools.lru_cache(maxsize=64)
def _checked_rules_cached(rules: tuple[Sequence[str], ...], layout: str) -> tuple[CostRule, ...]:
    return checked_cost_rules(rules, layout)


def _check_customer_code_source(source: str) -> None:
    if source in ("fiscal_code", "id_documento_contratto"):
        return
    if source.startswith("altri_dati:") and source.removeprefix("altri_dati:").strip():
        return
    raise ValueError(
        f"customer_code_source {source!r} is not valid; use one of {', '.join(CUSTOMER_CODE_SOURCES)}"
    )


def _namespace(element: etree._Element) -> str | None:
    """Return the element's namespace URI, read from its tag.

    ``etree.QName`` rejects a namespace URI holding ``}``, which the parser accepts, so the tag text
    is split at its last ``}`` instead (a local name cannot contain one).
    """
    tag = str(element.tag)
    return tag[1:].rpartition("}")[0] if tag.startswith("{") else None


def _namespace_warnings(root: etree._Element) -> list[Text]:
    namespace = _namespace(root)
    if namespace == NAMESPACE_V12:
        return []
    if namespace == NAMESPACE_V11:
        return [
            T_(
                "The file uses the old FatturaPA 1.1 namespace, so it was read with the 1.2 mapping. "
                "Check the bill before approval."
            )
        ]
    return [
        T_(
            "The file uses the unexpected namespace {namespace}, so elements were matched by name. "
            "Check the bill before approval.",
            namespace=repr(namespace),
        )
    ]


def _oversized_element(root: etree._Element, file_bytes: int) -> str | None:
    """Return the path of the first element, other than ``Attachment``, with too much text."""
    # No text has more characters than the file has bytes (there is no DTD, so no entity expands).
    # When the file, less its attachments, is within the limit, no element can exceed it, and the
    # walk in Python below is skipped: it would cost more than the rest of the reading.
    attachment_chars = sum(len(element.text or "") for element in root.iter("{*}Attachment"))
    if file_bytes - attachment_chars <= MAX_TEXT_CHARS:
        return None
    for element in root.iter():
        if not isinstance(element.tag, str) or local_name(element) == "Attachment":
            continue
        if len(element.text or "") > MAX_TEXT_CHARS or len(element.tail or "") > MAX_TEXT_CHARS:
            return root.getroottree().getpath(element)
    return None


def _body_text_chars(body: etree._Element) -> int:
    total = 0
    for element in body.iter():
        if isinstance(element.tag, str) and local_name(element) != "Attachment":
            total += len(element.text or "")
        total += len(element.tail or "")
    return total


def _read_header(header: etree._Element | None) -> _Header:
    if header is None:
        raise BodyError(
            T_(
                "{file} was rejected: it has no FatturaElettronicaHeader, so the seller and customer are "
                "unknown. Correct the billing export."
            ),
            field="FatturaElettronicaHeader",
        )
    parts = first_children(header)
    seller = parts.get("CedentePrestatore")
    if seller is None:
        raise BodyError(
            T_("{file} was rejected: the seller (CedentePrestatore) is missing. Correct the billing export."),
            field="FatturaElettronicaHeader/CedentePrestatore",
        )
    customer = parts.get("CessionarioCommittente")
    if customer is None:
        raise BodyError(
            T_(
                "{file} was rejected: the customer (CessionarioCommittente) is missing. "
                "Correct the billing export."
            ),
            field="FatturaElettronicaHeader/CessionarioCommittente",
        )

    customer_parts = first_children(customer)
    customer_data = first_children(customer_parts.get("DatiAnagrafici"))
    customer_name = _party_name(customer_data)
    if not customer_name:
        raise BodyError(
            T_(
                "{file} was rejected: the customer has neither Denominazione nor Nome and Cognome. "
                "Correct the billing export."
            ),
            field="CessionarioCommittente/DatiAnagrafici/Anagrafica",
        )

    warnings = []
    if parts.get("DatiTrasmissione") is None:
        warnings.append(T_("The file has no DatiTrasmissione block, so the transmission data are unknown."))
    seller_data = first_children(find(seller, "DatiAnagrafici"))
    return _Header(
        seller_name=_party_name(seller_data),
        seller_vat=_vat_id(seller_data) or "",
        customer_name=customer_name,
        fiscal_code=stripped_text(customer_data.get("CodiceFiscale")),
        vat_number=_vat_id(customer_data),
        customer_address=_address(customer_parts.get("Sede")),
        warnings=warnings,
    )


def _party_name(data: dict[str, etree._Element]) -> str:
    """Return the name in the ``first_children`` of a party's ``DatiAnagrafici``."""
    registry = first_children(data.get("Anagrafica"))
    name = stripped_text(registry.get("Denominazione"))
    if name:
        return name
    parts = [stripped_text(registry.get("Nome")), stripped_text(registry.get("Cognome"))]
    return " ".join(part for part in parts if part)


def _vat_id(data: dict[str, etree._Element]) -> str | None:
    """Return the VAT number in the ``first_children`` of a party's ``DatiAnagrafici``."""
    vat_id = first_children(data.get("IdFiscaleIVA"))
    country = stripped_text(vat_id.get("IdPaese"))
    code = stripped_text(vat_id.get("IdCodice"))
    return f"{country or ''}{code}" if code else None


def _address(sede: etree._Element | None) -> str | None:
    """Join ``Sede`` into one line: ``VIA TORINO 38-B, 00145 ROMA (RM)``, plus the country if not IT."""
    if sede is None:
        return None
    fields = {name: stripped_text(element) for name, element in first_children(sede).items()}
    street = " ".join(part for part in (fields.get("Indirizzo"), fields.get("NumeroCivico")) if part)
    town = " ".join(part for part in (fields.get("CAP"), fields.get("Comune")) if part)
    province = fields.get("Provincia")
    if province:
        town = f"{town} ({province})"
    country = fields.get("Nazione")
    parts = [street, town] + ([country] if country and country.upper() != "IT" else [])
    return ", ".join(part for part in parts if part) or None


def _read_body(
    body: etree._Element,
    header: _Header,
    *,
    source_file: str,
    index: int,
    file_bytes: int,
    pattern: re.Pattern[str] | None,
    customer_code_source: str,
    attachment_max_bytes: int,
    cost_rules: Sequence[CostRule],
    costs_layout: str,
    supply_address_types: Collection[str],
) -> ParsedBill:
    # The text of a file never has more characters than the file has bytes (there is no DTD, so
    # no entity expands), so only a file larger than the limit needs the count.
    if file_bytes > MAX_BODY_TEXT_CHARS and _body_text_chars(body) > MAX_BODY_TEXT_CHARS:
        raise BodyError(
            T_(
                "{file}, body {body} was rejected: it contains more than {limit} characters of text "
                "outside attachments, far beyond a utility bill. Correct the billing export.",
                limit=MAX_BODY_TEXT_CHARS,
            )
        )

    document = first_children(find(body, "DatiGenerali", "DatiGeneraliDocumento"))
    number = stripped_text(document.get("Numero"))
    if number is None:
        raise BodyError(
            T_(
                "{file}, body {body} was rejected: the document number (DatiGeneraliDocumento/Numero) is "
                "missing. Correct the billing export."
            ),
            field="DatiGenerali/DatiGeneraliDocumento/Numero",
        )
    issue_date = date_value(stripped_text(document.get("Data")), ("Data",), label="DatiGeneraliDocumento")
    if issue_date is None:
        raise BodyError(
            T_(
                "{file}, body {body} was rejected: the issue date (DatiGeneraliDocumento/Data) is missing. "
                "Correct the billing export."
            ),
            field="DatiGenerali/DatiGeneraliDocumento/Data",
        )

    warnings = list(header.warnings)
    document_type = stripped_text(document.get("TipoDocumento"))
    if document_type is None:
        warnings.append(
            T_(
                "TipoDocumento is missing, so the bill is treated as an invoice (TD01). "
                "Check the bill before approval."
            )
        )
    currency = stripped_text(document.get("Divisa"))
    if currency is None:
        warnings.append(
            T_("Divisa is missing, so the amounts are taken as EUR. Check the bill before approval.")
        )

    total = decimal_value(
        stripped_text(document.get("ImportoTotaleDocumento")), ("ImportoTotaleDocumento",),
        label="DatiGeneraliDocumento",
    )
    beni_servizi = find(body, "DatiBeniServizi")
    lines = read_lines(
        beni_servizi,
        cost_rules=cost_rules,
        costs_layout=costs_layout,
        supply_address_types=supply_address_types,
    )
    warnings.extend(lines.warnings)
    if beni_servizi is None:
        warnings.append(T_("DatiBeniServizi is missing, so the bill has no cost summary."))
    if lines.service is None:
        warnings.append(
            T_(
                "No POD, PDR or consumption unit was found, so the service is assumed to be electricity. "
                "Check the bill before approval."
            )
        )

    payment = read_payment(body, total, warnings)
    series, year = _series_and_year(number, issue_date, pattern, warnings)
    attachments = _read_attachments(body, attachment_max_bytes, warnings)

    return ParsedBill(
        source_file=source_file,
        body_index=index,
        document_number=number,
        document_type=document_type or "TD01",
        issue_date=issue_date,
        series=series,
        year=year,
        currency=currency or "EUR",
        total=total,
        amount_due=payment.amount_due,
        due_date=payment.due_date,
        instalments=payment.instalments,
        payment_method=payment.method,
        direct_debit=payment.direct_debit,
        service=lines.service or "electricity",
        seller_name=header.seller_name,
        seller_vat=header.seller_vat,
        customer_code=_customer_code(body, header, customer_code_source),
        customer_name=header.customer_name,
        fiscal_code=header.fiscal_code,
        vat_number=header.vat_number,
        customer_address=header.customer_address,
        pod=lines.pod,
        pdr=lines.pdr,
        supply_address=lines.supply_address,
        period_from=lines.period_from,
        period_to=lines.period_to,
        consumption=lines.consumption,
        consumption_unit=lines.consumption_unit,
        costs=lines.costs,
        attachments=attachments,
        warnings=warnings,
        details=_layout_details(costs_layout, lines),
    )


def _layout_details(costs_layout: str, lines: LineSummary) -> dict[str, Any]:
    details: dict[str, Any] = {"costs_layout": costs_layout}
    if costs_layout == RECEIPT_2025:
        details["receipt_costs"] = lines.receipt_costs
    return details


def _series_and_year(
    number: str, issue_date: date, pattern: re.Pattern[str] | None, warnings: list[Text]
) -> tuple[str, int]:
    if pattern is None:
        return "", issue_date.year
    match = pattern.fullmatch(number)
    if match is None:
        warnings.append(
            T_(
                "The document number {number} does not match the series pattern, so the series is empty "
                "and the year is the issue date's. Check the series pattern set for the tenant.",
                number=repr(number),
            )
        )
        return "", issue_date.year
    groups = match.groupdict()
    series = groups.get("series") or ""
    year_text = groups.get("year")
    if not year_text or not year_text.isdigit():
        return series, issue_date.year
    year = int(year_text)
    # Two-digit years such as "20" in "GR20-900443E" are years of this century.
    return series, year + 2000 if year < 100 else year


def _customer_code(body: etree._Element, header: _Header, source: str) -> str:
    if source == "fiscal_code":
        code = header.fiscal_code or header.vat_number
        if code is None:
            raise BodyError(
                T_(
                    "{file}, body {body} was rejected: the customer has neither CodiceFiscale nor "
                    "IdFiscaleIVA, so the customer code is unknown. Correct the billing export."
                ),
                field="CessionarioCommittente/DatiAnagrafici",
            )
        return code
    if source == "id_documento_contratto":
        code = text(body, "DatiGenerali", "DatiContratto", "IdDocumento")
        if code is None:
            raise BodyError(
                T_(
                    "{file}, body {body} was rejected: DatiContratto/IdDocumento is missing, and the "
                    "tenant takes the customer code from it. Correct the billing export, or ask the "
                    "platform operator to read the customer code from another field."
                ),
                field="DatiGenerali/DatiContratto/IdDocumento",
            )
        return code
    wanted = source.removeprefix("altri_dati:").strip().casefold()
    for line in children(find(body, "DatiBeniServizi"), "DettaglioLinee"):
        for data in children(line, "AltriDatiGestionali"):
            if (text(data, "TipoDato") or "").casefold() == wanted:
                code = text(data, "RiferimentoTesto") or text(data, "RiferimentoNumero")
                if code:
                    return code
    raise BodyError(
        T_(
            "{file}, body {body} was rejected: no line has AltriDatiGestionali with TipoDato {type}, and "
            "the tenant takes the customer code from it. Correct the billing export, or ask the platform "
            "operator to read the customer code from another field.",
            type=repr(wanted),
        ),
        field="DettaglioLinee/AltriDatiGestionali",
    )


def _read_attachments(body: etree._Element, max_bytes: int, warnings: list[Text]) -> list[Attachment]:
    attachments: list[Attachment] = []
    for position, allegati in enumerate(children(body, "Allegati"), start=1):
        found, problems = decode_attachment(allegati, position, max_bytes)
        attachments.extend(found)
        warnings.extend(problems)
    return attachments
