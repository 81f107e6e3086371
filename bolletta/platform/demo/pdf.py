"""One-page PDF summaries of demo bills, in Italian, as a utility attaches them to its e-invoices."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from fpdf import FPDF

from bolletta.platform.demo.bills import Bill, Person, Seller

SERVICE_TITLES = {"electricity": "Bolletta energia elettrica", "gas": "Bolletta gas naturale"}
CREDIT_NOTE_TITLE = "Nota di credito"


def italian_amount(value: Decimal) -> str:
    """Format an amount the Italian way, such as ``1.234,56 €``."""
    grouped = f"{value:,.2f}"
    return grouped.replace(",", "_").replace(".", ",").replace("_", ".") + " €"


def italian_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _summary_rows(bill: Bill, customer: Person) -> list[tuple[str, str]]:
    rows = [
        ("Intestatario", customer.full_name),
        ("Codice fiscale", customer.fiscal_code),
        ("Numero documento", bill.number),
        ("Data emissione", italian_date(bill.issue_date)),
        ("Periodo", f"{italian_date(bill.period_from)} - {italian_date(bill.period_to)}"),
        (bill.supply_point_type, bill.supply_point),
        ("Indirizzo di fornitura", bill.supply_address),
        ("Importo totale", italian_amount(bill.total)),
    ]
    if bill.payment is not None:
        for number, instalment in enumerate(bill.payment.instalments, start=1):
            label = "Scadenza" if len(bill.payment.instalments) == 1 else f"Rata {number}, scadenza"
            rows.append((label, f"{italian_date(instalment.due_date)}: {italian_amount(instalment.amount)}"))
    return rows


def render_bill_pdf(bill: Bill, seller: Seller, customer: Person) -> bytes:
    """Render the one-page summary of ``bill``. The same bill always gives the same bytes."""
    pdf = FPDF(format="A4")
    # Core fonts encode text as windows-1252 so that the euro sign prints.
    pdf.core_fonts_encoding = "windows-1252"
    # A fixed creation date instead of the current time keeps the output reproducible.
    issued = bill.issue_date
    pdf.set_creation_date(datetime(issued.year, issued.month, issued.day, tzinfo=UTC))
    pdf.set_title(f"{seller.name} - {bill.number}")
    pdf.add_page()

    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 10, seller.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 5, f"{seller.address.one_line()} - P.IVA {seller.vat_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)

    title = CREDIT_NOTE_TITLE if bill.document_type == "TD04" else SERVICE_TITLES[bill.service]
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    for label, value in _summary_rows(bill, customer):
        pdf.set_font("Helvetica", style="B", size=11)
        pdf.cell(60, 8, label)
        pdf.set_font("Helvetica", size=11)
        pdf.cell(0, 8, value, new_x="LMARGIN", new_y="NEXT")

    pdf.ln(6)
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(0, 5, "Documento dimostrativo: dati e importi sono inventati.")
    return bytes(pdf.output())
