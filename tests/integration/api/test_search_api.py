"""Ticket and bill searches and details over HTTP: the backoffice's filters and counts, paging, masking."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.api.tokens import create_token
from bolletta.platform.db.models.tenant import AuditEntry, Bill, Event, Message, Ticket
from bolletta.platform.office import bill_search, ticket_search
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import web_client
from tests.integration.stats import dataset

NON_TEST_TICKETS = 16
"""Tickets of the statistics dataset without its one test ticket."""
BILLS = 14


@dataclass
class Seeded:
    tenant: str
    data: dataset.Dataset
    headers: dict[str, str]


@pytest.fixture
def client(stack: EmbeddedStack) -> Iterator[httpx.Client]:
    with web_client(stack) as http:
        yield http


def bearer(stack: EmbeddedStack, tenant: str, *scopes: str) -> dict[str, str]:
    token = create_token(stack.rt.db, tenant, "gestionale", list(scopes), created_by="test").token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def seeded(stack: EmbeddedStack, tenant: str) -> Seeded:
    with stack.rt.db.tenant_session(tenant) as session:
        data = dataset.build(session)
    return Seeded(tenant, data, bearer(stack, tenant, "tickets:read", "bills:read"))


def all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)
    elif isinstance(value, str):
        yield value


def test_ticket_search_lists_non_test_tickets(seeded: Seeded, client: httpx.Client) -> None:
    response = client.get("/api/v1/tickets", params={"per_page": 100}, headers=seeded.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"total": NON_TEST_TICKETS, "page": 1, "per_page": 100, "pages": 1}
    assert len(body["items"]) == NON_TEST_TICKETS
    dates = [item["created_at"] for item in body["items"]]
    assert dates == sorted(dates, reverse=True)
    assert all(item["contact_masked"] for item in body["items"])
    assert all("•••" in item["contact"] for item in body["items"])
    assert not any("token" in text for text in all_strings(body))


@pytest.mark.parametrize(
    "filters",
    [
        {"channel": "email"},
        {"status": "failed"},
        {"s2s_errors": "true"},
        {"valid": "true"},
        {"viewed": "true"},
        {"paid_online": "true"},
        {"contact": "+393339999999"},
        {"contact": "3339999999"},
        {"date_from": "2025-01-01", "date_to": "2025-01-31"},
        {"date_from": "2025-01-01"},
        {"document_number": "B3"},
        {"issue_from": "2025-01-05", "year": "2025", "series": "A", "channel": "email"},
        {"channel": "sms", "viewed": "true", "status": "delivered"},
    ],
)
def test_ticket_filters_count_as_backoffice(stack: EmbeddedStack, seeded: Seeded, client: httpx.Client,
                                            filters: dict[str, str]) -> None:
    response = client.get("/api/v1/tickets", params={**filters, "per_page": 200}, headers=seeded.headers)
    typed = {name: _typed(name, value) for name, value in filters.items()}
    with stack.rt.db.tenant_session(seeded.tenant) as session:
        expected = ticket_search.count_tickets(session, ticket_search.TicketFilters(**typed), clock.now())

    assert response.status_code == 200, response.text
    assert 0 < expected < NON_TEST_TICKETS
    assert response.json()["meta"]["total"] == expected
    assert len(response.json()["items"]) == expected


def _typed(name: str, value: str) -> Any:
    if value == "true":
        return True
    if name in {"year", "job_id"}:
        return int(value)
    if name.endswith(("_from", "_to")):
        return date.fromisoformat(value)
    return value


def test_ticket_job_filter(seeded: Seeded, client: httpx.Client) -> None:
    response = client.get("/api/v1/tickets", params={"job_id": seeded.data.job2}, headers=seeded.headers)

    assert response.json()["meta"]["total"] == 3
    assert {item["job_id"] for item in response.json()["items"]} == {seeded.data.job2}


def test_ticket_pages_do_not_overlap(seeded: Seeded, client: httpx.Client) -> None:
    pages = [client.get("/api/v1/tickets", params={"per_page": 5, "page": number, "sort": "document",
                                                   "order": "asc"}, headers=seeded.headers).json()
             for number in (1, 2, 3, 4)]

    ids = [item["id"] for page in pages for item in page["items"]]
    assert [len(page["items"]) for page in pages] == [5, 5, 5, 1]
    assert len(set(ids)) == NON_TEST_TICKETS
    assert pages[0]["meta"]["pages"] == 4
    numbers = [item["bill"]["document_number"] for page in pages for item in page["items"]]
    assert numbers == sorted(numbers)


@pytest.mark.parametrize(
    ("params", "name"),
    [({"channel": "fax"}, "channel"), ({"per_page": "500"}, "per_page"), ({"page": "0"}, "page"),
     ({"date_from": "31/02/2025"}, "date_from"), ({"job_id": str(2**63)}, "job_id"), ({"sort": "secret"}, "sort"),
     ({"customer_code": "x" * 61}, "customer_code")],
)
def test_ticket_search_rejects_bad_parameter(seeded: Seeded, client: httpx.Client, params: dict[str, str],
                                             name: str) -> None:
    response = client.get("/api/v1/tickets", params=params, headers=seeded.headers | {"Accept-Language": "en"})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert name in response.json()["detail"]


@pytest.mark.parametrize(
    "params",
    [{"date_from": "9999-12-31"}, {"date_to": "0001-01-01"}, {"date_from": "0001-01-01", "date_to": "9999-12-31"}],
)
def test_calendar_end_dates_are_read(seeded: Seeded, client: httpx.Client, params: dict[str, str]) -> None:
    response = client.get("/api/v1/tickets", params=params, headers=seeded.headers)

    assert response.status_code == 200, response.text
    expected = NON_TEST_TICKETS if len(params) == 2 else 0
    assert response.json()["meta"]["total"] == expected


def test_reversed_date_range_is_400(seeded: Seeded, client: httpx.Client) -> None:
    response = client.get("/api/v1/tickets", params={"date_from": "2025-02-01", "date_to": "2025-01-01"},
                          headers=seeded.headers)

    assert response.status_code == 400
    assert "date_from" in response.json()["detail"]


def test_ticket_detail_has_messages_events_payments(stack: EmbeddedStack, seeded: Seeded,
                                                    client: httpx.Client) -> None:
    ticket_id = seeded.data.ticket8
    with stack.rt.db.tenant_session(seeded.tenant) as session:
        session.add(Event(ticket_id=ticket_id, kind="viewed", at=dataset.utc("2025-02-04 10:00"), channel="sms",
                          data={}))
        session.add(Event(ticket_id=ticket_id, kind="section_viewed", at=dataset.utc("2025-02-04 10:01"),
                          channel="sms", data={"section": "consumi"}))
        session.commit()

    response = client.get(f"/api/v1/tickets/{ticket_id}", headers=seeded.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["bill"]["document_number"] == "B3"
    assert body["status"] == "delivered"
    assert [message["status"] for message in body["messages"]] == ["delivered"]
    assert [event["kind"] for event in body["events"]] == ["viewed", "section_viewed"]
    assert body["events"][1]["data"] == {"section": "consumi"}
    assert [payment["status"] for payment in body["payments"]] == ["completed"]
    assert body["payments"][0]["amount"] == "80.00"
    assert body["contact_masked"] is True
    assert body["contact"].startswith("+39 333 •••")
    assert not any("token" in text for text in all_strings(body))


def test_provider_error_hides_contact(stack: EmbeddedStack, seeded: Seeded, client: httpx.Client) -> None:
    with stack.rt.db.tenant_session(seeded.tenant) as session:
        ticket = session.get(Ticket, seeded.data.ticket8)
        assert ticket is not None
        message = session.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
        local = ticket.address.removeprefix("+39")
        message.error = f"Recipient {ticket.address} refused; number {local} is on a blocklist"
        session.commit()
        address = ticket.address

    masked = client.get(f"/api/v1/tickets/{seeded.data.ticket8}", headers=seeded.headers).json()
    full = client.get(f"/api/v1/tickets/{seeded.data.ticket8}",
                      headers=bearer(stack, seeded.tenant, "tickets:read", "contacts:read")).json()

    error = masked["messages"][0]["error"]
    assert address not in error
    assert local not in error
    assert error.count(masked["contact"]) == 2
    assert full["messages"][0]["error"] == f"Recipient {address} refused; number {local} is on a blocklist"


def test_unknown_ticket_is_404(seeded: Seeded, client: httpx.Client) -> None:
    response = client.get("/api/v1/tickets/999999", headers=seeded.headers | {"Accept-Language": "en"})

    assert response.status_code == 404
    assert response.json()["detail"] == "Ticket 999999 not found."


def test_contacts_read_shows_full_contact_audited(stack: EmbeddedStack, seeded: Seeded,
                                                  client: httpx.Client) -> None:
    headers = bearer(stack, seeded.tenant, "tickets:read", "contacts:read")

    listed = client.get("/api/v1/tickets", params={"contact": "+393339999999"}, headers=headers)
    detail = client.get(f"/api/v1/tickets/{listed.json()['items'][0]['id']}", headers=headers)

    assert listed.json()["items"][0]["contact"] == "+393339999999"
    assert listed.json()["items"][0]["contact_masked"] is False
    assert detail.json()["contact"] == "+393339999999"
    with stack.rt.db.tenant_session(seeded.tenant) as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "personal_data.bulk_read")))
    assert [entry.detail["contacts"] for entry in entries] == [1, 1]
    assert all(entry.actor.startswith("api:token-") for entry in entries)


def test_masked_reads_are_not_audited(stack: EmbeddedStack, seeded: Seeded, client: httpx.Client) -> None:
    client.get("/api/v1/tickets", headers=seeded.headers)

    with stack.rt.db.tenant_session(seeded.tenant) as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "personal_data.bulk_read")) is None


@pytest.mark.parametrize(
    "filters",
    [
        {"paid": "yes"}, {"paid": "no"}, {"customer": "cliente b1"}, {"amount_min": "80,00", "amount_max": "80"},
        {"due_from": "2025-02-05", "due_to": "2025-02-05"}, {"service": "electricity", "series": "A"},
        {"document_number": "B13"},
    ],
)
def test_bill_filters_count_as_backoffice(stack: EmbeddedStack, seeded: Seeded, client: httpx.Client,
                                          filters: dict[str, str]) -> None:
    response = client.get("/api/v1/bills", params={**filters, "per_page": 200}, headers=seeded.headers)
    typed: dict[str, Any] = {name: _typed(name, value) for name, value in filters.items()}
    for name in ("amount_min", "amount_max"):
        if name in typed:
            typed[name] = bill_search.Query({name: filters[name]}).amount(name)
    with stack.rt.db.tenant_session(seeded.tenant) as session:
        expected = bill_search.count_bills(session, bill_search.BillFilters(**typed))

    assert response.status_code == 200, response.text
    assert expected > 0
    assert response.json()["meta"]["total"] == expected
    assert len(response.json()["items"]) == expected


def test_bill_search_pages_and_paid_flag(seeded: Seeded, client: httpx.Client) -> None:
    first = client.get("/api/v1/bills", params={"per_page": 10}, headers=seeded.headers).json()
    paid = client.get("/api/v1/bills", params={"paid": "yes", "sort": "document", "order": "asc"},
                      headers=seeded.headers).json()

    assert first["meta"] == {"total": BILLS, "page": 1, "per_page": 10, "pages": 2}
    assert [item["document_number"] for item in paid["items"]] == ["B1", "B17", "B3"]
    assert all(item["paid"] for item in paid["items"])
    assert paid["items"][0]["amount_due"] == "80.00"


def test_bad_amount_is_400(seeded: Seeded, client: httpx.Client) -> None:
    response = client.get("/api/v1/bills", params={"amount_min": "NaN"}, headers=seeded.headers)

    assert response.status_code == 400
    assert "amount_min" in response.json()["detail"]


def test_bill_detail(stack: EmbeddedStack, seeded: Seeded, client: httpx.Client) -> None:
    bill_id = seeded.data.bill13
    with stack.rt.db.tenant_session(seeded.tenant) as session:
        bill = session.get(Bill, bill_id)
        assert bill is not None
        bill.fiscal_code = "RSSMRA80A01H501U"
        session.commit()

    response = client.get(f"/api/v1/bills/{bill_id}", headers=seeded.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["document_number"] == "B13"
    assert body["fiscal_code"] == "RSS••••••••••01U"
    assert body["amount_due"] == "80.00"
    assert [ticket["channel"] for ticket in body["tickets"]] == ["email"]
    assert body["tickets"][0]["status"] == "delivered"
    assert body["tickets"][0]["contact_masked"] is True
    assert "•••" in body["tickets"][0]["contact"]


def test_bill_and_ticket_scopes(stack: EmbeddedStack, seeded: Seeded, client: httpx.Client) -> None:
    tickets_only = bearer(stack, seeded.tenant, "tickets:read")
    bills_only = bearer(stack, seeded.tenant, "bills:read")

    assert client.get("/api/v1/bills", headers=tickets_only).status_code == 403
    assert client.get(f"/api/v1/bills/{seeded.data.bill13}", headers=tickets_only).status_code == 403
    assert client.get("/api/v1/tickets", headers=bills_only).status_code == 403
    assert client.get(f"/api/v1/tickets/{seeded.data.ticket8}", headers=bills_only).status_code == 403
