"""The PDF rendered from bill data: both layouts, text from the flow kept as text."""

from __future__ import annotations

from bolletta.platform.portal.pdf import pdf_data, render_pdf
from bolletta.tenants.config import TenantConfig
from tests.unit.portal.bills import bill_from, parsed_fatturapa, parsed_jsonl, rich_record


def test_jsonl_bill_renders() -> None:
    bill = bill_from(parsed_jsonl(rich_record()))

    content = render_pdf(bill, "ACME Energia", TenantConfig())

    assert content.startswith(b"%PDF")


def test_fatturapa_bill_renders() -> None:
    bill = bill_from(parsed_fatturapa()[0])

    assert render_pdf(bill, "ACME Energia", TenantConfig()).startswith(b"%PDF")


def test_data_is_formatted_in_italian() -> None:
    data = pdf_data(bill_from(parsed_jsonl(rich_record())), "ACME Energia", TenantConfig())

    assert data["amount_due"] == "4.082,00\xa0€"
    assert data["due_date"] == "19/09/2031"
    assert data["notice"] == "3010 0000 0000 0123 45"
    assert data["costs"][0]["label"] == "Quota consumi"


def test_markup_in_flow_text_is_not_evaluated() -> None:
    record = rich_record()
    record["customer"]["name"] = '#panic("injected") *bold* $x$'
    bill = bill_from(parsed_jsonl(record))

    content = render_pdf(bill, "ACME Energia", TenantConfig())

    # Evaluated as markup, the name would stop the compiler with "injected".
    assert content.startswith(b"%PDF")
