"""Property tests: generated FatturaPA variants never crash the reader and never get invented values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bolletta.platform.ingest.fatturapa import read_fatturapa

NAMESPACE = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
# Characters that windows-1252 and ISO-8859-1 both encode, including the XML specials.
NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 àèéìòùÀÈÉ°'&<>\"ç"

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

amounts = st.decimals(min_value=Decimal("-999.99"), max_value=Decimal("99999.99"), places=2, allow_nan=False)


@dataclass
class Line:
    description: str
    amount: Decimal
    quantity: Decimal | None
    unit: str | None


@dataclass
class Body:
    number: str
    issued: date
    total: Decimal | None
    instalments: list[Decimal]
    lines: list[Line]
    vat: Decimal


@dataclass
class Variant:
    prefix: str | None
    encoding: str
    bom: bool
    declaration: bool
    customer: str
    bodies: list[Body]
    noise: list[str]


lines = st.builds(
    Line,
    description=st.sampled_from(
        ["Spesa per la materia energia", "Spesa per il trasporto e la gestione del contatore", "Imposte", "Altro"]
    ),
    amount=amounts,
    quantity=st.none() | st.decimals(min_value=Decimal(0), max_value=Decimal(9999), places=2, allow_nan=False),
    unit=st.none() | st.sampled_from(["kWh", "Smc", "m3", "Mese"]),
)

bodies = st.builds(
    Body,
    number=st.text(alphabet="ABC0123456789/-", min_size=1, max_size=20).filter(lambda value: value.strip() != ""),
    issued=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    total=st.none() | amounts,
    instalments=st.lists(amounts, max_size=3),
    lines=st.lists(lines, max_size=4),
    vat=amounts,
)


names = st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=40).filter(lambda value: value.strip() != "")
noise = st.sampled_from(["<!-- nota -->", "<?xml-stylesheet href='f.xsl'?>", "<?pi x?>"])
"""Comments and processing instructions put inside the root and the header."""


@st.composite
def variants(draw: st.DrawFn) -> Variant:
    encoding = draw(st.sampled_from(["UTF-8", "windows-1252", "ISO-8859-1"]))
    is_utf8 = encoding == "UTF-8"
    return Variant(
        prefix=draw(st.sampled_from([None, "p", "ns0", "ns3", "q1"])),
        encoding=encoding,
        bom=is_utf8 and draw(st.booleans()),
        # Only UTF-8 may leave out the declaration, because it is the default.
        declaration=not is_utf8 or draw(st.booleans()),
        customer=draw(names),
        bodies=draw(st.lists(bodies, min_size=1, max_size=5)),
        noise=draw(st.lists(noise, min_size=3, max_size=3)),
    )


def render_body(body: Body) -> str:
    parts = [
        "<FatturaElettronicaBody><DatiGenerali><DatiGeneraliDocumento>",
        "<TipoDocumento>TD01</TipoDocumento><Divisa>EUR</Divisa>",
        f"<Data>{body.issued.isoformat()}</Data><Numero>{escape(body.number)}</Numero>",
    ]
    if body.total is not None:
        parts.append(f"<ImportoTotaleDocumento>{body.total}</ImportoTotaleDocumento>")
    parts.append("</DatiGeneraliDocumento></DatiGenerali><DatiBeniServizi>")
    for number, line in enumerate(body.lines, start=1):
        parts.append(f"<DettaglioLinee><NumeroLinea>{number}</NumeroLinea><Descrizione>{line.description}</Descrizione>")
        if line.quantity is not None:
            parts.append(f"<Quantita>{line.quantity}</Quantita>")
        if line.unit is not None:
            parts.append(f"<UnitaMisura>{line.unit}</UnitaMisura>")
        parts.append(f"<PrezzoUnitario>1.00</PrezzoUnitario><PrezzoTotale>{line.amount}</PrezzoTotale>")
        parts.append("<AliquotaIVA>22.00</AliquotaIVA></DettaglioLinee>")
    parts.append(
        "<DatiRiepilogo><AliquotaIVA>22.00</AliquotaIVA><ImponibileImporto>0.00</ImponibileImporto>"
        f"<Imposta>{body.vat}</Imposta></DatiRiepilogo></DatiBeniServizi>"
    )
    if body.instalments:
        parts.append("<DatiPagamento><CondizioniPagamento>TP02</CondizioniPagamento>")
        for amount in body.instalments:
            parts.append(
                "<DettaglioPagamento><ModalitaPagamento>MP05</ModalitaPagamento>"
                f"<ImportoPagamento>{amount}</ImportoPagamento></DettaglioPagamento>"
            )
        parts.append("</DatiPagamento>")
    parts.append("</FatturaElettronicaBody>")
    return "".join(parts)


def render_variant(variant: Variant) -> bytes:
    root = f"{variant.prefix}:FatturaElettronica" if variant.prefix else "FatturaElettronica"
    xmlns = f"xmlns:{variant.prefix}" if variant.prefix else "xmlns"
    # With a default namespace the children must leave it, as the schema's unqualified elements do.
    reset = "" if variant.prefix else ' xmlns=""'
    customer = escape(variant.customer, {'"': "&quot;"})
    header = (
        f"<FatturaElettronicaHeader{reset}>{variant.noise[0]}<CedentePrestatore><DatiAnagrafici>"
        "<IdFiscaleIVA><IdPaese>IT</IdPaese><IdCodice>01234567890</IdCodice></IdFiscaleIVA>"
        "<Anagrafica><Denominazione>Fornitore</Denominazione></Anagrafica></DatiAnagrafici></CedentePrestatore>"
        "<CessionarioCommittente><DatiAnagrafici><CodiceFiscale>RSSMRA80A01H501U</CodiceFiscale>"
        f"<Anagrafica><Denominazione>{customer}</Denominazione></Anagrafica>"
        "</DatiAnagrafici></CessionarioCommittente></FatturaElettronicaHeader>"
    )
    bodies = "".join(
        render_body(body).replace("<FatturaElettronicaBody>", f"<FatturaElettronicaBody{reset}>")
        for body in variant.bodies
    )
    document = (
        f'<{root} versione="FPR12" {xmlns}="{NAMESPACE}">{variant.noise[1]}{header}{bodies}{variant.noise[2]}</{root}>'
    )
    declaration = f'<?xml version="1.0" encoding="{variant.encoding}"?>\n' if variant.declaration else ""
    data = (declaration + "<!-- export -->\n" + document).encode(variant.encoding)
    return b"\xef\xbb\xbf" + data if variant.bom else data


@PROPERTY_SETTINGS
@given(variants())
def test_generated_variants_read_faithfully(variant: Variant) -> None:
    bills, rejected = read_fatturapa(render_variant(variant), "generated.xml")

    assert rejected == []
    assert len(bills) == len(variant.bodies)
    for bill, body in zip(bills, variant.bodies, strict=True):
        assert bill.customer_name == variant.customer.strip()
        assert bill.document_number == body.number.strip()
        assert bill.issue_date == body.issued
        assert bill.total == body.total
        if body.instalments:
            assert bill.amount_due == sum(body.instalments, Decimal(0))
        elif body.total is not None:
            assert bill.amount_due == body.total
        else:
            assert bill.amount_due == body.vat
        assert bill.due_date is None
        assert [cost.amount for cost in bill.costs if cost.category != "vat"] == [line.amount for line in body.lines]
        assert [cost.quantity for cost in bill.costs if cost.category != "vat"] == [
            line.quantity for line in body.lines
        ]
        if all(line.quantity is None for line in body.lines):
            assert bill.consumption is None
        assert bill.pod is None
        assert bill.pdr is None


@PROPERTY_SETTINGS
@given(variants(), st.data())
def test_damaged_variants_never_crash(variant: Variant, data: st.DataObject) -> None:
    document = render_variant(variant)
    cut = data.draw(st.integers(min_value=0, max_value=len(document)))
    flipped = data.draw(st.integers(min_value=0, max_value=255))
    damaged = document[:cut] + bytes([flipped]) + document[cut + 1 :]

    bills, rejected = read_fatturapa(damaged, "damaged.xml")

    assert len(bills) + len(rejected) >= 1
    for bill in bills:
        assert bill.document_number
        assert bill.customer_name
