"""Export and erasure of one customer's data: what the archive contains, what erasure keeps, and
that nothing of another customer changes."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal

import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import AuditEntry, Bill, Contact, Event, Message, Payment, StoredMessage, Ticket
from bolletta.platform.errors import NotFound
from bolletta.platform.privacy.erasure import ERASED_ADDRESS
from bolletta.platform.privacy.export import Requester
from bolletta.platform.privacy.requests import erase_customer, export_customer
from bolletta.platform.privacy.subjects import InvalidSubject
from bolletta.platform.stack import EmbeddedStack
from tests.integration.privacy.people import IP_ADDRESS, USER_AGENT, add_customer, snapshot

KINDS = ("bills", "instalments", "cost_lines", "contacts", "tickets", "messages", "stored_messages", "events",
         "payments", "payment_notifications", "suppressions")
REQUESTER = Requester(username="privacy.admin", user_id=7, ip="127.0.0.1")


def _export(stack: EmbeddedStack, tenant: str, **identifiers: str) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    export_customer(stack.rt, tenant, buffer, REQUESTER, **identifiers)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def _jsonl(archive: zipfile.ZipFile, kind: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in archive.read(f"{kind}.jsonl").decode().splitlines()]


def _audit(stack: EmbeddedStack, tenant: str) -> list[AuditEntry]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_export_holds_every_kind(stack: EmbeddedStack, tenant: str) -> None:
    customer = add_customer(stack.rt, tenant, "CLI001", "RSSMRA80A01H501U", bills=2)
    other = add_customer(stack.rt, tenant, "CLI002", "VRDLGU75B02F205X")

    archive = _export(stack, tenant, customer_code="CLI001")

    names = set(archive.namelist())
    for kind in KINDS:
        assert f"{kind}.jsonl" in names
        assert f"{kind}.csv" in names
    assert {f"documents/{public_id}.pdf" for public_id in customer.public_ids} <= names
    assert not any(public_id in name for public_id in other.public_ids for name in names)
    bills = _jsonl(archive, "bills")
    assert sorted(row["id"] for row in bills) == sorted(customer.bill_ids)
    assert {row["customer_code"] for row in bills} == {"CLI001"}
    assert bills[0]["amount_due"] == "80.00"
    assert [row["address"] for row in _jsonl(archive, "contacts")] == [customer.address]
    assert len(_jsonl(archive, "tickets")) == 2
    assert all("token_hash" not in row for row in _jsonl(archive, "tickets"))
    assert sorted(row["order_id"] for row in _jsonl(archive, "payments")) == sorted(customer.order_ids)
    assert all("provider_data" not in row for row in _jsonl(archive, "payments"))
    assert {row["data"]["ip"] for row in _jsonl(archive, "events")} == {IP_ADDRESS}
    assert len(_jsonl(archive, "stored_messages")) == 2
    assert len(_jsonl(archive, "suppressions")) == 1
    header, *rows = list(csv.reader(io.StringIO(archive.read("bills.csv").decode())))
    assert "customer_name" in header
    assert len(rows) == 2
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["counts"]["bills"] == 2
    assert manifest["counts"]["documents"] == 2


def test_export_audited_under_pseudonym(stack: EmbeddedStack, tenant: str) -> None:
    add_customer(stack.rt, tenant, "CLI003", "RSSMRA80A01H501U")

    _export(stack, tenant, customer_code="CLI003")
    _export(stack, tenant, fiscal_code="rssmra80a01h501u")

    first, second = _audit(stack, tenant)
    assert first.action == second.action == "customer.export"
    assert first.target == second.target
    assert first.target.startswith("customer:")
    assert "CLI003" not in json.dumps([first.target, first.detail])
    assert first.actor == "privacy.admin"
    assert first.user_id == 7


def test_export_by_fiscal_code_covers_codes(stack: EmbeddedStack, tenant: str) -> None:
    add_customer(stack.rt, tenant, "CLI004", "BNCGNN60C03L219Z")
    add_customer(stack.rt, tenant, "CLI005", "BNCGNN60C03L219Z")
    add_customer(stack.rt, tenant, "CLI006", "VRDLGU75B02F205X")

    archive = _export(stack, tenant, fiscal_code="BNCGNN60C03L219Z")

    assert {row["customer_code"] for row in _jsonl(archive, "bills")} == {"CLI004", "CLI005"}
    assert {row["customer_code"] for row in _jsonl(archive, "contacts")} == {"CLI004", "CLI005"}


@pytest.mark.parametrize("identifiers", [{}, {"customer_code": "CLI007", "fiscal_code": "RSSMRA80A01H501U"},
                                         {"customer_code": "  "}])
def test_request_needs_one_identifier(stack: EmbeddedStack, tenant: str, identifiers: dict[str, str]) -> None:
    add_customer(stack.rt, tenant, "CLI007", "RSSMRA80A01H501U")

    with pytest.raises(InvalidSubject, match="either a customer code or a fiscal code"):
        export_customer(stack.rt, tenant, io.BytesIO(), REQUESTER, **identifiers)


def test_unknown_customer_not_found(stack: EmbeddedStack, tenant: str) -> None:
    add_customer(stack.rt, tenant, "CLI008", "RSSMRA80A01H501U")

    with pytest.raises(NotFound, match="No bill or contact found for this customer code"):
        erase_customer(stack.rt, tenant, REQUESTER, customer_code="CLI999")
    assert _audit(stack, tenant) == []


def test_erasure_keeps_accounting_records(stack: EmbeddedStack, tenant: str, scrubbed: list[str]) -> None:
    customer = add_customer(stack.rt, tenant, "CLI010", "RSSMRA80A01H501U", bills=2)
    before = snapshot(stack.rt, tenant, customer)

    result = erase_customer(stack.rt, tenant, REQUESTER, customer_code="CLI010")

    assert result.gateway_failures == []
    assert sorted(scrubbed) == sorted(customer.order_ids)
    assert result.counts["files"] == 8
    for key in customer.storage_keys(tenant):
        assert not stack.rt.storage.exists(key), key
    with stack.rt.db.tenant_session(tenant) as session:
        bills = list(session.scalars(select(Bill).where(Bill.id.in_(customer.bill_ids)).order_by(Bill.id)))
        tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_(customer.ticket_ids))))
        events = list(session.scalars(select(Event).where(Event.bill_id.in_(customer.bill_ids))))
        messages = list(session.scalars(select(Message).where(Message.ticket_id.in_(customer.ticket_ids))))
        payments = list(session.scalars(select(Payment).where(Payment.bill_id.in_(customer.bill_ids))))
        contacts = session.scalars(select(Contact).where(Contact.customer_code == "CLI010")).all()
        stored = session.scalars(select(StoredMessage).where(StoredMessage.to_address == customer.address)).all()
    assert contacts == []
    assert stored == []
    for bill, old in zip(bills, before["bills"], strict=True):
        assert (bill.customer_name, bill.fiscal_code, bill.customer_address, bill.supply_address) == ("", None, None,
                                                                                                        None)
        assert (bill.pod, bill.details, bill.pdf_key) == (None, {}, None)
        assert (bill.document_number, bill.amount_due, bill.issue_date) == (old["document_number"],
                                                                           Decimal("80.00"), old["issue_date"])
        assert bill.customer_code == "CLI010"
    for ticket in tickets:
        assert ticket.address == ERASED_ADDRESS.format(ticket_id=ticket.id)
        assert ticket.revoked_at is not None
    assert [event.data for event in events] == [{"method": "GET"}] * 2
    assert USER_AGENT not in json.dumps([event.data for event in events])
    assert [message.error for message in messages] == [None, None]
    assert [(payment.status, payment.amount) for payment in payments] == [("completed", Decimal("80.00"))] * 2
    (entry,) = _audit(stack, tenant)
    assert entry.action == "customer.erase"
    assert entry.detail["counts"]["contacts"] == 1
    assert "CLI010" not in json.dumps([entry.target, entry.detail])


def test_erasure_leaves_others_untouched(stack: EmbeddedStack, tenant: str, scrubbed: list[str]) -> None:
    add_customer(stack.rt, tenant, "CLI011", "RSSMRA80A01H501U")
    other = add_customer(stack.rt, tenant, "CLI012", "VRDLGU75B02F205X", bills=2)
    before = snapshot(stack.rt, tenant, other)

    erase_customer(stack.rt, tenant, REQUESTER, fiscal_code="RSSMRA80A01H501U")

    assert snapshot(stack.rt, tenant, other) == before
    assert not set(scrubbed) & set(other.order_ids)
    for key in other.storage_keys(tenant):
        assert stack.rt.storage.exists(key), key


def test_erasure_reports_unreachable_gateway(stack: EmbeddedStack, tenant: str, scrubbed: list[str]) -> None:
    customer = add_customer(stack.rt, tenant, "CLI013", "RSSMRA80A01H501U", gateway="nexi")

    result = erase_customer(stack.rt, tenant, REQUESTER, customer_code="CLI013")

    assert result.gateway_failures == [f"nexi:{customer.order_ids[0]}"]
    assert scrubbed == []
    (entry,) = _audit(stack, tenant)
    assert entry.detail["gateway_failures"] == result.gateway_failures
    assert result.counts["bills"] == 1
