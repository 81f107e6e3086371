"""The "Ricerca ticket" pages: the search, a ticket's detail with its history, and its actions."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Event, Message, Payment, Ticket
from bolletta.platform.errors import BollettaError, NotFound
from bolletta.platform.i18n.dynamic_ids import N_
from bolletta.platform.office import ticket_actions, ticket_search
from bolletta.platform.office.access import may_act, page, require_acting, require_staff, staff_of
from bolletta.platform.office.listing import Query, link
from bolletta.platform.office.routes import _tenant
from bolletta.platform.privacy import mask_contact
from bolletta.platform.tickets.actions import resend
from bolletta.platform.web.context import rt

logger = logging.getLogger(__name__)

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
DAYS_SHOWN = 20
"""Characters of a rejected "days" value repeated in the error message."""
COLUMNS = (
    ("document", N_("Document number")), ("job", "JOB"), ("amount", N_("Amount (€)")), ("customer", N_("Customer")),
    ("date", N_("Ticket date")), ("contact", N_("Contact")), ("status", N_("Status")),
)


def _search(tenant: str, filters: ticket_search.TicketFilters, paging: Any) -> tuple[int, list[Any]]:
    now = clock.now()
    with rt().db.tenant_session(tenant) as session:
        total = ticket_search.count_tickets(session, filters, now)
        rows = ticket_search.search_tickets(session, filters, paging, now)
    return total, rows


@get("/tickets", name="office:tickets", guards=[require_staff])
async def ticket_list(request: Request[Any, Any, Any]) -> Response[str]:
    """Search tickets with the filters of the query string ("Ricerca ticket")."""
    staff = staff_of(request)
    tenant = await _tenant(staff)
    query = Query(dict(request.query_params))
    filters = ticket_search.read_filters(query)
    paging = ticket_search.read_ticket_paging(query)
    total, rows = 0, list[ticket_search.TicketRow]()
    if not query.errors:
        total, rows = await anyio.to_thread.run_sync(_search, tenant.slug, filters, paging)
    params = {**filters.as_params(), "sort": paging.sort, "dir": "desc" if paging.descending else "asc"}
    return page(request, "office/tickets.html", tenant, filters=filters, rows=rows, total=total,
                paging=paging, pages=paging.pages(total), params=params, link=link, errors=query.errors,
                columns=COLUMNS, channels=ticket_search.CHANNELS, statuses=ticket_search.MESSAGE_STATUSES,
                mask=mask_contact, now=clock.now())


def load_ticket_detail(tenant: str, ticket_id: int) -> dict[str, Any] | None:
    """Load a ticket with its bill, messages, events, payments and its bill's other tickets; ``None`` if unknown."""
    with rt().db.tenant_session(tenant) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            return None
        bill = session.get(Bill, ticket.bill_id)
        messages = session.scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)).all()
        events = session.scalars(select(Event).where(Event.ticket_id == ticket_id).order_by(Event.at, Event.id)).all()
        payments = session.scalars(select(Payment).where(Payment.bill_id == ticket.bill_id)
                                   .order_by(Payment.id)).all()
        others = session.scalars(select(Ticket).where(Ticket.bill_id == ticket.bill_id, Ticket.id != ticket_id)
                                 .order_by(Ticket.id)).all()
        session.expunge_all()
    return {"ticket": ticket, "bill": bill, "messages": messages, "events": events, "payments": payments,
            "others": others}


async def _detail_page(request: Request[Any, Any, Any], ticket_id: int, *, full_contact: str | None = None,
                       error: str | None = None, days: str = "", status_code: int = 200) -> Response[str]:
    staff = staff_of(request)
    tenant = await _tenant(staff)
    found = await anyio.to_thread.run_sync(load_ticket_detail, tenant.slug, ticket_id)
    if found is None:
        raise NotFoundException()
    ticket = found["ticket"]
    status = found["messages"][-1].status if found["messages"] else "created"
    return page(request, "office/ticket.html", tenant, status_code=status_code, status=status,
                full_contact=full_contact, mask=mask_contact, error=error, now=clock.now(),
                usable=ticket.revoked_at is None and clock.as_utc(ticket.expires_at) > clock.now(),
                as_utc=clock.as_utc, days=days, max_days=ticket_actions.MAX_EXTENSION_DAYS, **found)


@get("/tickets/{ticket_id:int}", name="office:ticket", guards=[require_staff])
async def ticket_detail(request: Request[Any, Any, Any], ticket_id: FromPath[int]) -> Response[str]:
    """Show a ticket with its bill, every message (delivery history), every event, and its actions."""
    return await _detail_page(request, ticket_id, error=request.query_params.get("error"))


@post("/tickets/{ticket_id:int}/contact", name="office:ticket-contact", guards=[require_acting])
async def ticket_contact(request: Request[Any, Any, Any], ticket_id: FromPath[int]) -> Response[str]:
    """Show the ticket's contact in full to an admin or operator; audited."""
    staff = staff_of(request)
    assert staff.tenant is not None and may_act(staff)
    try:
        address = await anyio.to_thread.run_sync(ticket_actions.reveal_contact, rt(), staff.tenant, ticket_id, staff)
    except BollettaError as exc:
        raise NotFoundException() from exc
    return await _detail_page(request, ticket_id, full_contact=address)


@post("/tickets/{ticket_id:int}/revoke", name="office:ticket-revoke", guards=[require_acting])
async def ticket_revoke(request: Request[Any, Any, Any], ticket_id: FromPath[int]) -> Response[Any]:
    """Revoke the ticket ("Revoca"); audited."""
    staff = staff_of(request)
    assert staff.tenant is not None
    try:
        await anyio.to_thread.run_sync(ticket_actions.revoke, rt(), staff.tenant, ticket_id, staff)
    except BollettaError as exc:
        logger.warning("tenant %s: revoke of ticket %d by %s rejected: %s", staff.tenant, ticket_id,
                       staff.username, exc)
        return Redirect(f"/office/tickets/{ticket_id}?error=revoke", status_code=303)
    return Redirect(f"/office/tickets/{ticket_id}", status_code=303)


@post("/tickets/{ticket_id:int}/extend", name="office:ticket-extend", guards=[require_acting])
async def ticket_extend(request: Request[Any, Any, Any], ticket_id: FromPath[int], data: FormData) -> Response[Any]:
    """Extend the ticket's validity by the days chosen ("Estendi validità"); audited."""
    staff = staff_of(request)
    assert staff.tenant is not None
    raw = data.get("days", "").strip()
    days = ticket_actions.extension_days(raw)
    if days is None:
        logger.warning("tenant %s: extension of ticket %d by %s rejected: invalid days %r", staff.tenant, ticket_id,
                       staff.username, raw[:DAYS_SHOWN])
        shown = raw if len(raw) <= DAYS_SHOWN else raw[:DAYS_SHOWN] + "…"
        return await _detail_page(request, ticket_id, error="extend-days", days=shown, status_code=400)
    try:
        await anyio.to_thread.run_sync(ticket_actions.extend, rt(), staff.tenant, ticket_id, staff, days)
    except NotFound as exc:
        raise NotFoundException() from exc
    except BollettaError as exc:
        logger.warning("tenant %s: extension of ticket %d by %s rejected: %s", staff.tenant, ticket_id,
                       staff.username, exc)
        return Redirect(f"/office/tickets/{ticket_id}?error=extend", status_code=303)
    return Redirect(f"/office/tickets/{ticket_id}", status_code=303)


@post("/tickets/{ticket_id:int}/resend", name="office:ticket-resend", guards=[require_acting])
async def ticket_resend(request: Request[Any, Any, Any], ticket_id: FromPath[int]) -> Response[Any]:
    """Send the ticket's message again to the same contact ("Invia di nuovo"); audited."""
    staff = staff_of(request)
    assert staff.tenant is not None
    try:
        await anyio.to_thread.run_sync(lambda: resend(rt(), staff.tenant or "", ticket_id, staff))
    except BollettaError as exc:
        logger.warning("tenant %s: re-send of ticket %d by %s rejected: %s", staff.tenant, ticket_id,
                       staff.username, exc)
        return Redirect(f"/office/tickets/{ticket_id}?error=resend", status_code=303)
    return Redirect(f"/office/tickets/{ticket_id}", status_code=303)


def tickets_router() -> Router:
    """Build the ticket search routes under ``/office``."""
    return Router(path="/office", route_handlers=[ticket_list, ticket_detail, ticket_contact, ticket_revoke,
                                                  ticket_extend, ticket_resend])
