"""The demo billing flow: a ZIP of FatturaPA bills and a contacts CSV, as a utility uploads it.

The seller is the fictitious "ACME Energia S.p.A." and the customers come from Faker ``it_IT``.
The same seed and issue date always give the same ZIP bytes: entries carry a fixed timestamp and
the PDFs a fixed creation date.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from datetime import date

import msgspec
from faker import Faker

from bolletta.platform import clock
from bolletta.platform.demo.bills import Address, Person, Seller
from bolletta.platform.demo.fatturapa import render_invoice_file
from bolletta.platform.demo.identity import italian_iban, vat_number
from bolletta.platform.demo.pdf import render_bill_pdf
from bolletta.platform.demo.people import make_people
from bolletta.platform.demo.scenario import (
    MIN_CUSTOMERS,
    FlowContext,
    InvoiceFile,
    Numbering,
    billing_period,
    plan_files,
)

SELLER_NAME = "ACME Energia S.p.A."
SELLER_VAT_NUMBER = vat_number("0718293", "015")
"""Invented partita IVA with a valid check digit (tax office code 015)."""
SELLER_ADDRESS = Address("Via dell'Energia 12", "20121", "Milano", "MI")
SELLER_BANK = "Banca Esempio S.p.A."
CONTACTS_FILENAME = "contacts.csv"
CONTACTS_HEADER = ("codice_cliente", "cellulare", "email", "lingua")
ENTRY_TIME = (6, 0, 0)
"""Time of day stamped on every ZIP entry, on the issue date."""


class DemoCustomer(msgspec.Struct, frozen=True, kw_only=True):
    """A customer of the demo flow, with the contacts its contacts CSV carries."""

    code: str
    """Customer code, equal to the fiscal code (the reader's default source for it)."""
    name: str
    fiscal_code: str
    email: str
    mobile: str
    """E.164 mobile number, such as ``+393331234567``."""


class DemoFlow(msgspec.Struct, kw_only=True):
    """The generated archive and what the demo command and tests need to know about it."""

    archive: bytes
    """The ZIP file."""
    filename: str
    """Archive name, such as ``ACME_emissione_2026_11.zip``."""
    customers: list[DemoCustomer]
    document_numbers: list[str]
    """Every bill's document number, in archive order and in body order within a batch file."""


def build_demo_flow(*, seed: int = 2026, issue_date: date | None = None, customers: int = 6) -> DemoFlow:
    """Build the demo flow for ``customers`` customers, issued on ``issue_date`` (default: today in Rome).

    Raises:
        ValueError: ``customers`` is below 6, the number the flow's cases need.
    """
    if customers < MIN_CUSTOMERS:
        raise ValueError(
            f"customers must be at least {MIN_CUSTOMERS} to cover every demo case, got {customers}"
        )
    issue = issue_date if issue_date is not None else clock.now().astimezone(clock.ROME).date()

    rng = random.Random(seed)
    faker = Faker("it_IT")
    faker.seed_instance(seed)
    seller = Seller(SELLER_NAME, SELLER_VAT_NUMBER, SELLER_ADDRESS, SELLER_BANK, italian_iban(rng))
    people = make_people(faker, rng, customers)
    period_from, period_to = billing_period(issue)
    context = FlowContext(seller, issue, period_from, period_to, Numbering(issue.year, rng), rng)
    files = plan_files(context, people)

    archive = _write_archive(seller, files, issue, first_progressive=rng.randint(1, 90_000))
    return DemoFlow(
        archive=archive,
        filename=f"ACME_emissione_{issue.year}_{issue.month:02d}.zip",
        customers=[_demo_customer(person) for person in people],
        document_numbers=[bill.number for invoice_file in files for bill in invoice_file.bills],
    )


def _demo_customer(person: Person) -> DemoCustomer:
    return DemoCustomer(
        code=person.fiscal_code,
        name=person.full_name,
        fiscal_code=person.fiscal_code,
        email=person.email,
        mobile=person.mobile,
    )


def _write_archive(seller: Seller, files: list[InvoiceFile], issue: date, first_progressive: int) -> bytes:
    """Return the ZIP: one XML file per invoice file, named as SdI names them, then the contacts."""
    entries: list[tuple[str, bytes]] = []
    for offset, invoice_file in enumerate(files):
        progressive = f"{first_progressive + offset:05d}"
        pdfs = {
            bill.number: render_bill_pdf(bill, seller, invoice_file.customer)
            for bill in invoice_file.bills
            if bill.with_pdf
        }
        xml = render_invoice_file(seller, invoice_file.customer, invoice_file.bills, progressive, pdfs)
        entries.append((f"IT{seller.vat_number}_{progressive}.xml", xml))

    # A customer with several files (a bill and a credit note) gets one row.
    customers = {invoice_file.customer.fiscal_code: invoice_file.customer for invoice_file in files}
    entries.append((CONTACTS_FILENAME, contacts_csv(list(customers.values()))))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=(issue.year, issue.month, issue.day, *ENTRY_TIME))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below apply
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def contacts_csv(people: list[Person]) -> bytes:
    """Return the contacts file: semicolon-separated, CRLF line ends, UTF-8, as Excel in Italy saves it.

    Every other mobile number is written without ``+39``, as utilities' exports often do.
    """
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(CONTACTS_HEADER)
    for index, person in enumerate(people):
        mobile = person.mobile if index % 2 == 0 else person.mobile.removeprefix("+39")
        writer.writerow((person.fiscal_code, mobile, person.email, "it"))
    return text.getvalue().encode("utf-8")
