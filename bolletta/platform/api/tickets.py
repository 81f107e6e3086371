"""``GET /api/v1/tickets`` and ``GET /api/v1/tickets/{id}`` (scope ``tickets:read``).

The search runs the backoffice's "Ricerca ticket" query with the same filters, so the API and the
page count the same tickets. Contacts are masked unless the token has ``contacts:read``; a ticket's
token is never returned, because only its HMAC is stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import anyio
import msgspec
from litestar import Request, get
from litestar.params import FromQuery

from bolletta.platform import clock
from bolletta.platform.api import params
from bolletta.platform.api.auth import authenticate
from bolletta.platform.api.errors import ApiProblem, problem_responses
from bolletta.platform.api.params import (
    Flag,
    ObjectId,
    OptionalDate,
    OptionalId,
    PageNumber,
    PerPage,
    Text40,
    Text60,
    Text254,
    Year,
)
from bolletta.platform.api.tokens import SCOPE_TICKETS_READ, ApiCaller
from bolletta.platform.db.models.tenant import Bill, Event, Message, Payment, Ticket
from bolletta.platform.i18n.message import T_
from bolletta.platform.office import ticket_search
from bolletta.platform.office.tickets import load_ticket_detail
from bolletta.platform.web.context import rt

if TYPE_CHECKING:
    ChannelName = str
    MessageStatus = str
    TicketSort = str
else:
    # Built from the backoffice's tuples, so the schema's enums cannot drift from the filters.
    ChannelName = Literal[ticket_search.CHANNELS]
    MessageStatus = Literal[ticket_search.MESSAGE_STATUSES]
    TicketSort = Literal[ticket_search.SORT_KEYS]


class BillRef(msgspec.Struct):
    """The identifying fields of the ticket's bill; amounts are decimal strings such as ``"80.50"``."""

    id: int
    public_id: str
    document_number: str
    series: str
    year: int
    amount_due: str
    currency: str
    customer_code: str
    customer_name: str


class TicketSummary(msgspec.Struct):
    """One ticket of a search, as a row of "Ricerca ticket"; ``status`` is its latest message's."""

    id: int
    job_id: int
    bill: BillRef
    channel: str
    contact: str
    contact_masked: bool
    status: str
    created_at: datetime
    expires_at: datetime
    first_viewed_at: datetime | None
    revoked_at: datetime | None
    paid_online: bool


class TicketPage(msgspec.Struct):
    """One page of tickets, newest first unless ``sort`` and ``order`` set another order."""

    items: list[TicketSummary]
    meta: params.PageMeta


class DeliveryReport(msgspec.Struct):
    """One message (send) of the ticket with its delivery status and the provider's report times."""

    id: int
    plugin: str
    status: str
    origin: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    reported_at: datetime | None
    error: str | None
    sms_parts: int | None


class CustomerEvent(msgspec.Struct):
    """One customer action on the ticket (``viewed``, ``pdf_downloaded``, ``payment_completed``...)."""

    id: int
    kind: str
    at: datetime
    channel: str | None
    data: dict[str, Any]


class PaymentRef(msgspec.Struct):
    """An online payment of the ticket's bill."""

    id: int
    gateway: str
    status: str
    amount: str
    currency: str
    created_at: datetime
    completed_at: datetime | None


class TicketDetail(msgspec.Struct):
    """A ticket with its messages (delivery reports), events and its bill's payments."""

    id: int
    job_id: int
    bill: BillRef
    channel: str
    contact: str
    contact_masked: bool
    status: str
    origin: str
    is_test: bool
    created_at: datetime
    expires_at: datetime
    first_viewed_at: datetime | None
    revoked_at: datetime | None
    previous_ticket_id: int | None
    messages: list[DeliveryReport]
    events: list[CustomerEvent]
    payments: list[PaymentRef]


def _check_order(first: date | None, last: date | None, names: str) -> None:
    if first is not None and last is not None and first > last:
        raise ApiProblem(400, T_("The range {names} ends before it starts. Swap the two dates.", names=names))


@get("/tickets", name="api:tickets", responses=problem_responses())
async def search_tickets(
    request: Request[Any, Any, Any], channel: FromQuery[ChannelName | None] = None, customer_code: Text60 = None,
    contact: Text254 = None, date_from: OptionalDate = None, date_to: OptionalDate = None,
    status: FromQuery[MessageStatus | None] = None, job_id: OptionalId = None, issue_from: OptionalDate = None,
    issue_to: OptionalDate = None, year: Year = None, series: Text40 = None, document_number: Text60 = None,
    valid: Flag = False, viewed: Flag = False, s2s_errors: Flag = False, paid_online: Flag = False,
    bill_by_email: Flag = False, page: PageNumber = 1, per_page: PerPage = params.DEFAULT_PER_PAGE,
    sort: FromQuery[TicketSort] = "date", order: params.Order = "desc",
) -> TicketPage:
    """Search tickets with the filters of "Ricerca ticket" (scope ``tickets:read``); test tickets are never listed.

    ``date_from``/``date_to`` bound the ticket date (Europe/Rome days), ``issue_from``/``issue_to`` the
    bill's issue date; one bound alone selects that single day. ``valid``: not expired, not revoked,
    latest message neither rejected nor failed. ``s2s_errors``: latest message rejected by the provider's API.
    """
    caller = await authenticate(request, SCOPE_TICKETS_READ)
    _check_order(date_from, date_to, "date_from-date_to")
    _check_order(issue_from, issue_to, "issue_from-issue_to")
    filters = ticket_search.TicketFilters(
        channel=channel, customer_code=customer_code, contact=contact, date_from=date_from, date_to=date_to,
        status=status, job_id=job_id, issue_from=issue_from, issue_to=issue_to, year=year, series=series,
        document_number=document_number, valid=valid, viewed=viewed, s2s_errors=s2s_errors,
        paid_online=paid_online, bill_by_email=bill_by_email,
    )
    paging = params.paging(page, per_page, sort, order)

    def run() -> tuple[int, list[ticket_search.TicketRow]]:
        now = clock.now()
        with rt().db.tenant_session(caller.tenant) as session:
            return (ticket_search.count_tickets(session, filters, now),
                    ticket_search.search_tickets(session, filters, paging, now))

    total, rows = await anyio.to_thread.run_sync(run)
    await anyio.to_thread.run_sync(params.audit_contacts_read, request, caller, "tickets", len(rows))
    return TicketPage(items=[_summary(caller, row) for row in rows], meta=params.page_meta(paging, total))


def _summary(caller: ApiCaller, row: ticket_search.TicketRow) -> TicketSummary:
    bill = BillRef(id=row.bill_id, public_id=row.bill_public_id, document_number=row.document_number,
                   series=row.series, year=row.year, amount_due=_decimal(row.amount_due), currency=row.currency,
                   customer_code=row.customer_code, customer_name=row.customer_name)
    return TicketSummary(
        id=row.ticket_id, job_id=row.job_id, bill=bill, channel=row.channel,
        contact=params.shown_contact(caller, row.address), contact_masked=not params.may_see_contacts(caller),
        status=row.status, created_at=clock.as_utc(row.created_at), expires_at=clock.as_utc(row.expires_at),
        first_viewed_at=_utc(row.first_viewed_at), revoked_at=_utc(row.revoked_at), paid_online=bool(row.paid_online),
    )


@get("/tickets/{ticket_id:int}", name="api:ticket", responses=problem_responses(404))
async def read_ticket(request: Request[Any, Any, Any], ticket_id: ObjectId) -> TicketDetail:
    """Return a ticket with every message (delivery report) and customer event (scope ``tickets:read``)."""
    caller = await authenticate(request, SCOPE_TICKETS_READ)
    found = await anyio.to_thread.run_sync(load_ticket_detail, caller.tenant, ticket_id)
    if found is None:
        raise ApiProblem(404, T_("Ticket {ticket_id} not found.", ticket_id=ticket_id))
    await anyio.to_thread.run_sync(params.audit_contacts_read, request, caller, f"ticket:{ticket_id}", 1)
    return _detail(caller, found)


def _detail(caller: ApiCaller, found: dict[str, Any]) -> TicketDetail:
    ticket: Ticket = found["ticket"]
    bill: Bill = found["bill"]
    messages: list[Message] = list(found["messages"])
    events: list[Event] = list(found["events"])
    payments: list[Payment] = list(found["payments"])
    contact = params.shown_contact(caller, ticket.address)
    return TicketDetail(
        id=ticket.id, job_id=ticket.job_id, bill=bill_ref(bill), channel=ticket.channel,
        contact=contact, contact_masked=not params.may_see_contacts(caller),
        status=messages[-1].status if messages else "created", origin=ticket.origin, is_test=ticket.is_test,
        created_at=clock.as_utc(ticket.created_at), expires_at=clock.as_utc(ticket.expires_at),
        first_viewed_at=_utc(ticket.first_viewed_at), revoked_at=_utc(ticket.revoked_at),
        previous_ticket_id=ticket.previous_ticket_id,
        messages=[DeliveryReport(
            id=message.id, plugin=message.plugin, status=message.status, origin=message.origin,
            created_at=clock.as_utc(message.created_at), sent_at=_utc(message.sent_at),
            delivered_at=_utc(message.delivered_at), read_at=_utc(message.read_at),
            reported_at=_utc(message.reported_at), sms_parts=message.sms_parts,
            error=params.without_contact(message.error, ticket.address, contact),
        ) for message in messages],
        events=[CustomerEvent(id=event.id, kind=event.kind, at=clock.as_utc(event.at), channel=event.channel,
                              data=dict(event.data or {})) for event in events],
        payments=[payment_ref(payment) for payment in payments],
    )


def bill_ref(bill: Bill) -> BillRef:
    """Return the identifying fields of ``bill``."""
    return BillRef(id=bill.id, public_id=bill.public_id, document_number=bill.document_number, series=bill.series,
                   year=bill.year, amount_due=_decimal(bill.amount_due), currency=bill.currency,
                   customer_code=bill.customer_code, customer_name=bill.customer_name)


def payment_ref(payment: Payment) -> PaymentRef:
    """Return the API form of an online payment."""
    return PaymentRef(id=payment.id, gateway=payment.gateway, status=payment.status,
                      amount=_decimal(payment.amount), currency=payment.currency,
                      created_at=clock.as_utc(payment.created_at), completed_at=_utc(payment.completed_at))


def _decimal(value: Any) -> str:
    return f"{value:f}"


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else clock.as_utc(value)
