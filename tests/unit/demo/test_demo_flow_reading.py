"""The demo flow read back by the platform's flow reader with its default settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bolletta.platform.demo.flow import DemoFlow
from bolletta.platform.ingest.records import FlowReading

reader = pytest.importorskip("bolletta.platform.ingest.reader")


@pytest.fixture(scope="module")
def reading(demo_flow: DemoFlow) -> FlowReading:
    return reader.read_flow(demo_flow.archive, demo_flow.filename)


def test_reading_has_no_rejections(reading: FlowReading) -> None:
    assert reading.rejected == []
    assert reading.ignored == []


def test_reading_finds_every_bill(reading: FlowReading, demo_flow: DemoFlow) -> None:
    numbers = [bill.document_number for bill in reading.bills]
    assert len(numbers) == 8
    assert numbers == demo_flow.document_numbers


def test_reading_returns_contacts(reading: FlowReading, demo_flow: DemoFlow) -> None:
    contacts = {(contact.customer_code, contact.channel, contact.address) for contact in reading.contacts}
    for customer in demo_flow.customers:
        assert (customer.code, "email", customer.email) in contacts
        phone_contacts = {
            address for code, channel, address in contacts if code == customer.code and channel != "email"
        }
        assert customer.mobile in phone_contacts


def test_reading_maps_customer_codes(reading: FlowReading, demo_flow: DemoFlow) -> None:
    assert {bill.customer_code for bill in reading.bills} == {
        customer.code for customer in demo_flow.customers
    }


def test_reading_maps_payment_cases(reading: FlowReading) -> None:
    credit_notes = [bill for bill in reading.bills if bill.is_credit_note]
    assert len(credit_notes) == 1

    direct_debits = [bill for bill in reading.bills if bill.direct_debit]
    assert len(direct_debits) == 1

    split = [bill for bill in reading.bills if len(bill.instalments) == 2]
    assert len(split) == 1
    assert sum((instalment.amount for instalment in split[0].instalments), Decimal(0)) == split[0].total

    notice_codes = [
        instalment.notice_code
        for bill in reading.bills
        for instalment in bill.instalments
        if instalment.notice_code
    ]
    assert len(notice_codes) == 1
    assert len(notice_codes[0]) == 18


def test_reading_maps_supply_and_consumption(reading: FlowReading) -> None:
    for bill in reading.bills:
        assert bill.pod or bill.pdr
        assert bill.supply_address
        if bill.is_credit_note:
            continue
        assert bill.consumption is not None
        assert bill.consumption_unit == ("kWh" if bill.pod else "Smc")
        # Transport, system charge and excise lines repeat the quantity and must not add to it.
        supply_lines = [cost for cost in bill.costs if cost.category == "supply"]
        assert len(supply_lines) == 1
        assert bill.consumption == supply_lines[0].quantity


def test_reading_attaches_pdfs(reading: FlowReading) -> None:
    with_pdf = [bill for bill in reading.bills if bill.attachments]
    assert len(with_pdf) == 4
    for bill in with_pdf:
        assert bill.attachments[0].content.startswith(b"%PDF")
