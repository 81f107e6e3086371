"""Bills as the pages get them, built in memory from real flow records of both formats."""

from __future__ import annotations

import copy
import io
import zipfile
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, CostLine, Instalment
from bolletta.platform.demo.flow import build_demo_flow
from bolletta.platform.ingest.fatturapa import read_fatturapa
from bolletta.platform.ingest.jsonl import read_jsonl
from bolletta.platform.ingest.records import ParsedBill
from bolletta.platform.portal.summary import SummaryView
from bolletta.platform.web.templates import environment
from bolletta.tenants.config import TenantConfig
from tests.integration.flow_records import jsonl_lines

RICH_RECORD: dict[str, Any] = {
    "format": "bolletta-smart/1",
    "document": {
        "number": "2025/E/000451", "issue_date": "2025-09-01", "due_date": "2031-09-19",
        "period": {"from": "2025-07-01", "to": "2025-08-31"}, "amount_due": "4082.00", "total": "4082.00",
        "payment_method": "pagopa",
        "pagopa": {"notice_code": "301000000000012345", "creditor_fiscal_code": "07182930151"},
        "offer": {"name": "Luce Sicura Web", "code": "LSW-24"}, "market": "libero",
        "average_unit_price": "0.318720",
    },
    "customer": {
        "code": "C0001", "name": "Maria Rossi", "fiscal_code": "RSSMRA80A41H501U", "address": "Via Roma 1, 00100 Roma",
        "email": "maria.rossi@example.org", "pec": "maria.rossi@pec.example.org", "sdi_code": "0000000",
        "language": "en", "services": {"bill_by_email": True, "bill_by_post": False, "detailed_bill": True},
    },
    "supply": {
        "service": "electricity", "pod": "IT001E12345678", "address": "Via Roma 1, 00100 Roma",
        "meter_serial": "M123", "contracted_power_kw": "3", "available_power_kw": "3.3", "use": "domestico",
    },
    "costs_layout": "receipt_2025",
    "costs": [
        {"category": "consumption_quota", "part": "sale", "label": "Quota consumi – vendita", "amount": "2000.00",
         "quantity": "10000", "unit": "kWh", "unit_price": "0.200000"},
        {"category": "consumption_quota", "part": "network_system", "label": "Quota consumi – rete e oneri",
         "amount": "800.00", "quantity": "10000", "unit": "kWh", "unit_price": "0.080000"},
        {"category": "fixed_quota", "part": "sale", "label": "Quota fissa – vendita", "amount": "120.00"},
        {"category": "power_quota", "part": "network_system", "label": "Quota potenza", "amount": "90.00"},
        {"category": "excise", "label": "Accisa", "amount": "250.00"},
        {"category": "vat", "label": "IVA 10%", "amount": "362.00"},
        {"category": "tv_licence", "label": "Canone RAI", "amount": "540.00"},
        {"category": "social_bonus", "label": "Bonus sociale", "amount": "-80.00"},
    ],
    "consumption": {
        "unit": "kWh", "billed": "10000", "actual": "9000", "estimated": "1000", "annual": "2700",
        "annual_period": {"from": "2024-09-01", "to": "2025-08-31"},
        "by_band": {"F1": "4000", "F2": "3000", "F3": "3000"},
        "history": [{"period": "2025-03", "value": "210"}, {"period": "2025-05", "value": "190"},
                    {"period": "2025-07", "value": "260"}],
    },
    "readings": [
        {"date": "2025-08-31", "type": "actual", "value": "22345"},
        {"date": "2025-06-30", "type": "estimated", "value": "12345"},
    ],
    "previous_payments": {"status": "outstanding", "outstanding_amount": "120.50"},
    "annual_cost": {"amount": "980.00", "from": "2024-09-01", "to": "2025-08-31"},
}
"""A JSON Lines record with every smart-bill field, in the 2025 receipt layout."""


def rich_record(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`RICH_RECORD` with top-level ``changes``."""
    record = copy.deepcopy(RICH_RECORD)
    record.update(changes)
    return record


def parsed_jsonl(record: dict[str, Any]) -> ParsedBill:
    reading = read_jsonl(jsonl_lines(record), "flow.jsonl")
    assert not reading.rejected, reading.rejected
    return reading.bills[0]


def parsed_fatturapa() -> list[ParsedBill]:
    """Every bill of the demo's FatturaPA flow."""
    flow = build_demo_flow(issue_date=date(2026, 3, 2))
    bills: list[ParsedBill] = []
    with zipfile.ZipFile(io.BytesIO(flow.archive)) as archive:
        for name in archive.namelist():
            if name.endswith(".xml"):
                parsed, _rejected = read_fatturapa(archive.read(name), name)
                bills.extend(parsed)
    return bills


def bill_from(parsed: ParsedBill, **columns: Any) -> Bill:
    """An unsaved ``Bill`` with its instalments and cost lines, as the job would store it."""
    bill = Bill(
        id=1, public_id="PUBLICID", job_id=1, source_file=parsed.source_file, document_number=parsed.document_number,
        series=parsed.series, year=parsed.year, document_type=parsed.document_type, issue_date=parsed.issue_date,
        due_date=parsed.due_date, currency=parsed.currency, total=parsed.total, amount_due=parsed.amount_due,
        payment_method=parsed.payment_method, direct_debit=parsed.direct_debit,
        payable_online=not parsed.is_credit_note and not parsed.direct_debit, service=parsed.service,
        seller_name=parsed.seller_name, customer_code=parsed.customer_code, customer_name=parsed.customer_name,
        fiscal_code=parsed.fiscal_code, vat_number=parsed.vat_number, customer_address=parsed.customer_address,
        pod=parsed.pod, pdr=parsed.pdr, supply_address=parsed.supply_address, period_from=parsed.period_from,
        period_to=parsed.period_to, consumption=parsed.consumption, consumption_unit=parsed.consumption_unit,
        details=dict(parsed.details), pdf_key=None, paid_at=None, created_at=clock.now(),
        language=parsed.details.get("customer", {}).get("language"),
    )
    bill.instalments = [
        Instalment(position=index, amount=item.amount, due_date=item.due_date, method=item.method,
                   notice_code=item.notice_code)
        for index, item in enumerate(parsed.instalments, start=1)
    ]
    bill.costs = [
        CostLine(position=index, category=cost.category, label=cost.label, amount=cost.amount,
                 quantity=cost.quantity, unit=cost.unit, unit_price=cost.unit_price)
        for index, cost in enumerate(parsed.costs, start=1)
    ]
    for name, value in columns.items():
        setattr(bill, name, value)
    return bill


def summary_of(bill: Bill, state: str = "payable", **fields: Any) -> SummaryView:
    """A summary view in ``state``, as :func:`bolletta.platform.portal.summary.summary_view` decides it."""
    upcoming = next((item for item in bill.instalments if item.paid_at is None), None)
    values: dict[str, Any] = {
        "bill": bill, "amount_due": upcoming.amount if upcoming else bill.amount_due,
        "due_date": upcoming.due_date if upcoming else bill.due_date, "instalments": list(bill.instalments),
        "next_instalment": upcoming, "state": state, "overdue": False,
        "gateways": ["sandbox"] if state == "payable" else [],
    }
    values.update(fields)
    return SummaryView(**values)


TENANT = SimpleNamespace(slug="acme", name="ACME Energia S.p.A.")


def render_section(template: str, language: str, config: TenantConfig | None = None, **context: Any) -> str:
    """Render a section template as the route does, without a request."""
    context.setdefault("speech", None)
    return environment(language).get_template(template).render(
        request=None, csrf_input="", tenant=TENANT, config=config or TenantConfig(), slug="acme",
        payment_return=None, **context,
    )


def amount(text: str) -> Decimal:
    return Decimal(text)
