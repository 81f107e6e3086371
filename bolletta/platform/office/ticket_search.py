"""The "Ricerca ticket" query: every filter and checkbox of the spec, combinable, sorted and paged.

The page, its CSV and XLSX exports and the API run the same :func:`ticket_select`, so an export contains
exactly the rows the page counted. Test tickets are never listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from bolletta.platform.db.models.tenant import Bill, Payment, Ticket
from bolletta.platform.office.listing import Paging, Query, numeric, read_paging, rome_range

CHANNELS = ("sms", "email", "whatsapp")
MESSAGE_STATUSES = ("created", "rejected", "sent", "delivered", "failed", "timeout", "uncertain")
ERROR_STATUSES = ("failed", "rejected")
SORT_KEYS = ("document", "job", "amount", "customer", "date", "contact", "status")


@dataclass(frozen=True)
class TicketFilters:
    """The filters of "Ricerca ticket"; ``None`` or ``False`` means not applied."""

    channel: str | None = None
    customer_code: str | None = None
    contact: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    job_id: int | None = None
    issue_from: date | None = None
    issue_to: date | None = None
    year: int | None = None
    series: str | None = None
    document_number: str | None = None
    valid: bool = False
    viewed: bool = False
    s2s_errors: bool = False
    paid_online: bool = False
    bill_by_email: bool = False
    """Only bills whose flow marks bill-by-e-mail active ("Boll. x email")."""

    def as_params(self) -> dict[str, Any]:
        """Return the filters as query-string values, as the search form sends them."""
        params: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is None or value is False:
                continue
            if value is True:
                params[name] = "1"
            elif isinstance(value, date):
                params[name] = value.isoformat()
            else:
                params[name] = value
        return params


def read_filters(query: Query) -> TicketFilters:
    """Read the filters from the query string; unreadable fields are added to ``query.errors``."""
    return TicketFilters(
        channel=query.choice("channel", CHANNELS),
        customer_code=query.text("customer_code", 60),
        contact=query.text("contact", 254),
        date_from=query.day("date_from"),
        date_to=query.day("date_to"),
        status=query.choice("status", MESSAGE_STATUSES),
        job_id=query.integer("job_id"),
        issue_from=query.day("issue_from"),
        issue_to=query.day("issue_to"),
        year=query.integer("year"),
        series=query.text("series", 40),
        document_number=query.text("document_number", 60),
        valid=query.flag("valid"),
        viewed=query.flag("viewed"),
        s2s_errors=query.flag("s2s_errors"),
        paid_online=query.flag("paid_online"),
        bill_by_email=query.flag("bill_by_email"),
    )


def read_ticket_paging(query: Query) -> Paging:
    """Page and sort of "Ricerca ticket": newest ticket first by default."""
    return read_paging(query, SORT_KEYS, "date")


def latest_status() -> ColumnElement[Any]:
    """Return the status of the ticket's latest message; ``created`` for a ticket with no message yet.

    ``tickets.latest_status`` is kept by a trigger on ``messages`` (migration 9bb775077e1e).
    """
    return func.coalesce(Ticket.latest_status, "created")


def paid_online_column() -> ColumnElement[bool]:
    """:func:`paid_online` for the result columns, probed row by row through ``ix_payments_bill_id``.

    A plain EXISTS in the select list lets PostgreSQL hash every completed payment of the tenant
    first, which costs more than the 50 probes a page needs.
    """
    probe = (select(Payment.id).where(Payment.bill_id == Ticket.bill_id, Payment.status == "completed")
             .limit(1).correlate(Ticket).scalar_subquery())
    return probe.is_not(None)


def status_is(status: str) -> ColumnElement[bool]:
    """Match tickets whose latest message has ``status``, on the plain column so the planner has statistics."""
    if status == "created":
        return or_(Ticket.latest_status.is_(None), Ticket.latest_status == "created")
    return Ticket.latest_status == status


def paid_online() -> ColumnElement[bool]:
    """True when the ticket's bill has a completed online payment."""
    return exists().where(Payment.bill_id == Ticket.bill_id, Payment.status == "completed")


def contact_variants(contact: str) -> list[str]:
    """List the stored forms a typed contact may have: e-mail in lower case, a mobile with or without +39."""
    value = contact.replace(" ", "")
    if "@" in value:
        return [value.lower(), value]
    if value.startswith("+"):
        return [value]
    if value.startswith("0039"):
        return [f"+{value[2:]}"]
    return [value, f"+39{value}"]


def _day_bounds(first: date | None, last: date | None) -> tuple[date, date] | None:
    """Return a single day when only one bound is given, else the range."""
    if first is None and last is None:
        return None
    return (first or last, last or first)  # type: ignore[return-value]


def _bill_conditions(filters: TicketFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.customer_code:
        conditions.append(Bill.customer_code == filters.customer_code)
    issue_days = _day_bounds(filters.issue_from, filters.issue_to)
    if issue_days:
        conditions += [Bill.issue_date >= issue_days[0], Bill.issue_date <= issue_days[1]]
    if filters.year is not None:
        conditions.append(Bill.year == filters.year)
    if filters.series:
        conditions.append(Bill.series == filters.series)
    if filters.document_number:
        conditions.append(Bill.document_number == filters.document_number)
    return conditions


def _state_conditions(filters: TicketFilters, now: datetime, status: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        conditions.append(status_is(filters.status))
    if filters.valid:
        conditions += [Ticket.revoked_at.is_(None), Ticket.expires_at > now,
                       or_(Ticket.latest_status.is_(None), Ticket.latest_status.not_in(ERROR_STATUSES))]
    if filters.viewed:
        conditions.append(Ticket.first_viewed_at.is_not(None))
    if filters.s2s_errors:
        conditions.append(status_is("rejected"))
    if filters.paid_online:
        conditions.append(paid_online())
    if filters.bill_by_email:
        conditions += [Ticket.channel == "email", Bill.details["services"]["bill_by_email"].as_boolean().is_(True)]
    return conditions


def _conditions(filters: TicketFilters, now: datetime, status: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Ticket.is_test.is_(False)]
    if filters.channel:
        conditions.append(Ticket.channel == filters.channel)
    if filters.contact:
        conditions.append(Ticket.address.in_(contact_variants(filters.contact)))
    ticket_days = _day_bounds(filters.date_from, filters.date_to)
    if ticket_days:
        start, end = rome_range(*ticket_days)
        conditions += [Ticket.created_at >= start, Ticket.created_at < end]
    if filters.job_id is not None:
        conditions.append(Ticket.job_id == filters.job_id)
    return conditions + _bill_conditions(filters) + _state_conditions(filters, now, status)


@dataclass(frozen=True)
class TicketRow:
    """One line of the results: the ticket, its bill's identifying fields and its state."""

    ticket_id: int
    job_id: int
    document_number: str
    series: str
    year: int
    amount_due: Decimal
    currency: str
    customer_name: str
    customer_code: str
    created_at: datetime
    channel: str
    address: str
    status: str
    first_viewed_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None
    paid_online: bool
    bill_public_id: str
    bill_id: int


def ticket_select(filters: TicketFilters, now: datetime) -> Select[Any]:
    """Build the rows of the search, unsorted and unpaged."""
    status = latest_status()
    query: Any = (
        select(
            Ticket.id, Ticket.job_id, Bill.document_number, Bill.series, Bill.year, Bill.amount_due,
            Bill.currency, Bill.customer_name, Bill.customer_code, Ticket.created_at, Ticket.channel,
            Ticket.address, status.label("status"), Ticket.first_viewed_at, Ticket.expires_at,
            Ticket.revoked_at, paid_online_column().label("paid_online"), Bill.public_id, Bill.id.label("bill_id"),
        )
        .join(Bill, Bill.id == Ticket.bill_id)
        .where(and_(*_conditions(filters, now, status)))
    )
    return query


def _order(paging: Paging) -> list[Any]:
    column: Any = {
        "document": Bill.document_number, "job": Ticket.job_id, "amount": numeric(Bill.amount_due),
        "customer": Bill.customer_name, "date": Ticket.created_at, "contact": Ticket.address,
        "status": latest_status(),
    }[paging.sort]
    tie = Ticket.id.desc() if paging.descending else Ticket.id.asc()
    return [column.desc() if paging.descending else column.asc(), tie]


def _needs_bill(filters: TicketFilters) -> bool:
    return any((filters.customer_code, filters.issue_from, filters.issue_to, filters.year is not None, filters.series,
                filters.document_number, filters.bill_by_email))


def count_tickets(session: Session, filters: TicketFilters, now: datetime) -> int:
    """Count the matching tickets ("Totale risultati"), joining bills only when a filter needs them."""
    query = select(func.count(Ticket.id))
    if _needs_bill(filters):
        query = query.join(Bill, Bill.id == Ticket.bill_id)
    return session.scalar(query.where(and_(*_conditions(filters, now, latest_status())))) or 0


def search_tickets(session: Session, filters: TicketFilters, paging: Paging, now: datetime) -> list[TicketRow]:
    """Return one page of results in the requested order."""
    query = ticket_select(filters, now).order_by(*_order(paging)).limit(paging.size).offset(paging.offset)
    return [TicketRow(*row) for row in session.execute(query)]


def iter_tickets(session: Session, filters: TicketFilters, paging: Paging, now: datetime,
                 batch: int = 2000) -> Iterator[TicketRow]:
    """Yield every matching ticket in the requested order, read in batches (for exports)."""
    query = ticket_select(filters, now).order_by(*_order(paging)).execution_options(yield_per=batch)
    for row in session.execute(query):
        yield TicketRow(*row)

