"""``GET /api/v1/bills`` and ``GET /api/v1/bills/{id}`` (scope ``bills:read``).

The search runs the backoffice's "Ricerca fatture" query with the same filters. The fiscal code is
always partly masked; the bill's tickets show contacts masked unless the token has ``contacts:read``.
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
    Amount,
    ObjectId,
    OptionalDate,
    OptionalId,
    PageNumber,
    PerPage,
    Text40,
    Text60,
    Text200,
)
from bolletta.platform.api.params import Year as YearParam
from bolletta.platform.api.tickets import PaymentRef, payment_ref
from bolletta.platform.api.tokens import SCOPE_BILLS_READ, ApiCaller
from bolletta.platform.db.models.tenant import Bill, Ticket
from bolletta.platform.i18n.message import T_
from bolletta.platform.jobs.review import mask_fiscal_code
from bolletta.platform.office import bill_search
from bolletta.platform.office.lists import load_bill_detail
from bolletta.platform.web.context import rt

if TYPE_CHECKING:
    ServiceName = str
    BillSort = str
else:
    # Built from the backoffice's tuples, so the schema's enums cannot drift from the filters.
    ServiceName = Literal[bill_search.SERVICES]
    BillSort = Literal[bill_search.SORT_KEYS]


class BillSummary(msgspec.Struct):
    """One bill of a search; amounts are decimal strings such as ``"80.50"``."""

    id: int
    job_id: int
    document_number: str
    series: str
    year: int
    issue_date: date
    due_date: date | None
    amount_due: str
    currency: str
    service: str
    customer_code: str
    customer_name: str
    paid: bool
    """Paid online, or marked paid by a later flow."""
    paid_at: datetime | None


class BillPage(msgspec.Struct):
    """One page of bills, newest issue date first unless ``sort`` and ``order`` set another order."""

    items: list[BillSummary]
    meta: params.PageMeta


class InstalmentItem(msgspec.Struct):
    """One amount due by a date."""

    position: int
    amount: str
    due_date: date | None
    paid_at: datetime | None


class CostItem(msgspec.Struct):
    """One line of the bill's cost summary."""

    category: str
    label: str
    amount: str


class BillTicket(msgspec.Struct):
    """One ticket of the bill, with its latest message's status."""

    id: int
    channel: str
    contact: str
    contact_masked: bool
    status: str
    is_test: bool
    created_at: datetime
    expires_at: datetime
    first_viewed_at: datetime | None
    revoked_at: datetime | None


class BillDetail(msgspec.Struct):
    """A bill with its amounts, dates, supply, instalments, costs, tickets and online payments."""

    id: int
    public_id: str
    job_id: int
    document_number: str
    series: str
    year: int
    document_type: str
    issue_date: date
    due_date: date | None
    amount_due: str
    total: str | None
    currency: str
    service: str
    customer_code: str
    customer_name: str
    fiscal_code: str | None
    """Partly masked, as in the job report."""
    pod: str | None
    pdr: str | None
    period_from: date | None
    period_to: date | None
    consumption: str | None
    consumption_unit: str | None
    payable_online: bool
    paid_at: datetime | None
    instalments: list[InstalmentItem]
    costs: list[CostItem]
    tickets: list[BillTicket]
    payments: list[PaymentRef]


@get("/bills", name="api:bills", responses=problem_responses())
async def search_bills(
    request: Request[Any, Any, Any], document_number: Text60 = None, series: Text40 = None, year: YearParam = None,
    customer: Text200 = None, issue_from: OptionalDate = None, issue_to: OptionalDate = None,
    due_from: OptionalDate = None, due_to: OptionalDate = None, amount_min: Amount = None, amount_max: Amount = None,
    service: FromQuery[ServiceName | None] = None, paid: FromQuery[Literal["yes", "no"] | None] = None,
    job_id: OptionalId = None,
    page: PageNumber = 1, per_page: PerPage = params.DEFAULT_PER_PAGE, sort: FromQuery[BillSort] = "issue",
    order: params.Order = "desc",
) -> BillPage:
    """Search bills with the filters of "Ricerca fatture" (scope ``bills:read``).

    ``customer`` matches the customer code exactly or a part of the customer's name. Date and amount
    bounds are inclusive.
    """
    caller = await authenticate(request, SCOPE_BILLS_READ)
    filters = bill_search.BillFilters(
        document_number=document_number, series=series, year=year, customer=customer, issue_from=issue_from,
        issue_to=issue_to, due_from=due_from, due_to=due_to, amount_min=params.amount(amount_min),
        amount_max=params.amount(amount_max), service=service, paid=paid, job_id=job_id,
    )
    paging = params.paging(page, per_page, sort, order)

    def run() -> tuple[int, list[bill_search.BillRow]]:
        with rt().db.tenant_session(caller.tenant) as session:
            return bill_search.count_bills(session, filters), bill_search.search_bills(session, filters, paging)

    total, rows = await anyio.to_thread.run_sync(run)
    return BillPage(items=[_summary(row) for row in rows], meta=params.page_meta(paging, total))


def _summary(row: bill_search.BillRow) -> BillSummary:
    return BillSummary(
        id=row.bill_id, job_id=row.job_id, document_number=row.document_number, series=row.series, year=row.year,
        issue_date=row.issue_date, due_date=row.due_date, amount_due=f"{row.amount_due:f}", currency=row.currency,
        service=row.service, customer_code=row.customer_code, customer_name=row.customer_name, paid=bool(row.paid),
        paid_at=None if row.paid_at is None else clock.as_utc(row.paid_at),
    )


@get("/bills/{bill_id:int}", name="api:bill", responses=problem_responses(404))
async def read_bill(request: Request[Any, Any, Any], bill_id: ObjectId) -> BillDetail:
    """Return a bill with its instalments, costs, tickets and online payments (scope ``bills:read``)."""
    caller = await authenticate(request, SCOPE_BILLS_READ)
    found = await anyio.to_thread.run_sync(load_bill_detail, caller.tenant, bill_id)
    if found is None:
        raise ApiProblem(404, T_("Bill {bill_id} not found.", bill_id=bill_id))
    tickets: list[Ticket] = list(found["tickets"])
    await anyio.to_thread.run_sync(params.audit_contacts_read, request, caller, f"bill:{bill_id}", len(tickets))
    return _detail(caller, found["bill"], tickets, found["payments"])


def _optional(value: Any) -> str | None:
    return None if value is None else f"{value:f}"


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else clock.as_utc(value)


def _ticket(caller: ApiCaller, ticket: Ticket) -> BillTicket:
    messages = list(ticket.messages)
    return BillTicket(
        id=ticket.id, channel=ticket.channel, contact=params.shown_contact(caller, ticket.address),
        contact_masked=not params.may_see_contacts(caller), status=messages[-1].status if messages else "created",
        is_test=ticket.is_test, created_at=clock.as_utc(ticket.created_at), expires_at=clock.as_utc(ticket.expires_at),
        first_viewed_at=_utc(ticket.first_viewed_at), revoked_at=_utc(ticket.revoked_at),
    )


def _detail(caller: ApiCaller, bill: Bill, tickets: list[Ticket], payments: list[Any]) -> BillDetail:
    return BillDetail(
        id=bill.id, public_id=bill.public_id, job_id=bill.job_id, document_number=bill.document_number,
        series=bill.series, year=bill.year, document_type=bill.document_type, issue_date=bill.issue_date,
        due_date=bill.due_date, amount_due=f"{bill.amount_due:f}", total=_optional(bill.total),
        currency=bill.currency, service=bill.service, customer_code=bill.customer_code,
        customer_name=bill.customer_name,
        fiscal_code=None if bill.fiscal_code is None else mask_fiscal_code(bill.fiscal_code),
        pod=bill.pod, pdr=bill.pdr, period_from=bill.period_from, period_to=bill.period_to,
        consumption=_optional(bill.consumption), consumption_unit=bill.consumption_unit,
        payable_online=bill.payable_online, paid_at=_utc(bill.paid_at),
        instalments=[InstalmentItem(position=item.position, amount=f"{item.amount:f}", due_date=item.due_date,
                                    paid_at=_utc(item.paid_at)) for item in bill.instalments],
        costs=[CostItem(category=line.category, label=line.label, amount=f"{line.amount:f}") for line in bill.costs],
        tickets=[_ticket(caller, ticket) for ticket in tickets],
        payments=[payment_ref(payment) for payment in payments],
    )
