"""The searches of the top menu besides tickets: "Ricerca fatture", "Ricerca job", "Stato pagamenti",
"Boll. x email", with the bill detail and the job archive download."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote

import anyio
from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Stream
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bolletta.platform import audit, clock
from bolletta.platform.db.models.tenant import Bill, Job, Message, Payment, Ticket
from bolletta.platform.office import bill_search, job_search, payment_search, ticket_search
from bolletta.platform.office.access import page, require_acting, require_staff, staff_of
from bolletta.platform.office.listing import Query, link
from bolletta.platform.office.routes import _tenant
from bolletta.platform.payments.corrections import corrections_of, originals_of
from bolletta.platform.privacy import mask_contact
from bolletta.platform.web.context import rt


def _params(filters_params: dict[str, Any], paging: Any) -> dict[str, Any]:
    return {**filters_params, "sort": paging.sort, "dir": "desc" if paging.descending else "asc"}


def _given(query: Query, names: tuple[str, ...]) -> dict[str, str]:
    return {name: query.params[name] for name in names if query.params.get(name)}


BILL_FIELDS = ("document_number", "series", "year", "customer", "issue_from", "issue_to", "due_from", "due_to",
               "amount_min", "amount_max", "service", "paid", "job_id", "withdrawn")


@get("/bills", name="office:bills", guards=[require_staff])
async def bill_list(request: Request[Any, Any, Any]) -> Response[str]:
    """Search bills ("Ricerca fatture")."""
    tenant = await _tenant(staff_of(request))
    query = Query(dict(request.query_params))
    filters = bill_search.read_filters(query)
    paging = bill_search.read_bill_paging(query)

    def run() -> tuple[int, list[bill_search.BillRow], int]:
        with rt().db.tenant_session(tenant.slug) as session:
            return (bill_search.count_bills(session, filters), bill_search.search_bills(session, filters, paging),
                    bill_search.count_hidden_withdrawn(session, filters))

    total, rows, hidden = (0, [], 0) if query.errors else await anyio.to_thread.run_sync(run)
    return page(request, "office/bills.html", tenant, filters=filters, rows=rows, total=total, paging=paging,
                pages=paging.pages(total), params=_params(_given(query, BILL_FIELDS), paging), link=link,
                errors=query.errors, services=bill_search.SERVICES, hidden_withdrawn=hidden)


def load_bill_detail(tenant: str, bill_id: int) -> dict[str, Any] | None:
    """Load a bill with its instalments, costs, tickets (with their messages) and payments; ``None`` if unknown.

    A withdrawn bill also comes with its job and with the current bill of the same number, if the
    documents were sent again.
    """
    with rt().db.tenant_session(tenant) as session:
        bill = session.scalar(select(Bill).where(Bill.id == bill_id)
                              .options(selectinload(Bill.instalments), selectinload(Bill.costs)))
        if bill is None:
            return None
        tickets = session.scalars(select(Ticket).where(Ticket.bill_id == bill_id).order_by(Ticket.id)
                                  .options(selectinload(Ticket.messages))).all()
        payments = session.scalars(select(Payment).where(Payment.bill_id == bill_id).order_by(Payment.id)).all()
        reissued_as, reissue_of = corrections_of(session, bill), originals_of(session, bill)
        job = session.get(Job, bill.job_id) if bill.withdrawn_at is not None else None
        current = None if job is None else session.scalar(
            select(Bill).where(Bill.document_number == bill.document_number, Bill.series == bill.series,
                               Bill.year == bill.year, Bill.withdrawn_at.is_(None)))
        session.expunge_all()
        return {"bill": bill, "tickets": tickets, "payments": payments, "reissued_as": reissued_as,
                "reissue_of": reissue_of, "withdrawn_job": job, "current_bill": current}


@get("/bills/{bill_id:int}", name="office:bill", guards=[require_staff])
async def bill_detail(request: Request[Any, Any, Any], bill_id: FromPath[int]) -> Response[str]:
    """Show a bill with what the customer reads (amounts, dates, instalments, costs) and all its tickets."""
    tenant = await _tenant(staff_of(request))
    found = await anyio.to_thread.run_sync(load_bill_detail, tenant.slug, bill_id)
    if found is None:
        raise NotFoundException()
    return page(request, "office/bill.html", tenant, mask=mask_contact, latest=_latest, **found)


def _latest(ticket: Ticket) -> str:
    messages: list[Message] = list(ticket.messages)
    return messages[-1].status if messages else "created"


JOB_FIELDS = ("date_from", "date_to", "state", "filename")


@get("/jobs", name="office:jobs", guards=[require_staff])
async def job_list(request: Request[Any, Any, Any]) -> Response[str]:
    """Search jobs ("Ricerca job")."""
    tenant = await _tenant(staff_of(request))
    query = Query(dict(request.query_params))
    filters = job_search.read_filters(query)
    paging = job_search.read_job_paging(query)

    def run() -> tuple[int, list[Job]]:
        with rt().db.tenant_session(tenant.slug) as session:
            total, jobs = job_search.count_jobs(session, filters), job_search.search_jobs(session, filters, paging)
            session.expunge_all()
            return total, jobs

    total, rows = (0, []) if query.errors else await anyio.to_thread.run_sync(run)
    return page(request, "office/jobs.html", tenant, filters=filters, jobs=rows, total=total, paging=paging,
                pages=paging.pages(total), params=_params(_given(query, JOB_FIELDS), paging), link=link,
                errors=query.errors, states=job_search.STATES)


@get("/jobs/{job_id:int}/archive", name="office:job-archive", guards=[require_acting])
async def job_archive(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Stream:
    """Download the job's original archive; audited, because it contains personal data."""
    staff = staff_of(request)

    def load() -> Job | None:
        with rt().db.tenant_session(staff.tenant or "") as session:
            job = session.get(Job, job_id)
            if job is None:
                return None
            audit.record(session, actor=staff.actor, user_id=staff.user_id, action="job.archive_download",
                         target=f"job:{job_id}", ip=staff.ip)
            session.commit()
            session.expunge(job)
            return job

    job = await anyio.to_thread.run_sync(load)
    if job is None or not rt().storage.exists(job.archive_key):
        raise NotFoundException()
    handle = await anyio.to_thread.run_sync(rt().storage.open, job.archive_key)

    async def chunks() -> Any:
        with contextlib.closing(handle):
            while block := await anyio.to_thread.run_sync(handle.read, 1 << 20):
                yield block

    disposition = f"attachment; filename*=UTF-8''{quote(job.filename)}"
    return Stream(chunks(), media_type="application/octet-stream", headers={"Content-Disposition": disposition})


PAYMENT_FIELDS = ("date_from", "date_to", "status", "gateway")


@get("/payments", name="office:payments", guards=[require_staff])
async def payment_list(request: Request[Any, Any, Any]) -> Response[str]:
    """Online payments with totals per status ("Stato pagamenti")."""
    tenant = await _tenant(staff_of(request))
    query = Query(dict(request.query_params))
    filters = payment_search.read_filters(query)
    paging = payment_search.read_payment_paging(query)

    def run() -> tuple[int, list[payment_search.PaymentRow], list[Any]]:
        with rt().db.tenant_session(tenant.slug) as session:
            return (payment_search.count_payments(session, filters),
                    payment_search.search_payments(session, filters, paging), payment_search.totals(session, filters))

    total, rows, sums = (0, [], []) if query.errors else await anyio.to_thread.run_sync(run)
    return page(request, "office/payments.html", tenant, filters=filters, rows=rows, total=total, paging=paging,
                pages=paging.pages(total), params=_params(_given(query, PAYMENT_FIELDS), paging), link=link,
                errors=query.errors, statuses=payment_search.STATUSES, sums=sums)


MAILING_FIELDS = ("date_from", "date_to", "status", "customer_code", "contact")


@get("/mailings", name="office:mailings", guards=[require_staff])
async def mailing_list(request: Request[Any, Any, Any]) -> Response[str]:
    """List the e-mail sends to customers whose flow requests the bill by e-mail ("Boll. x email")."""
    tenant = await _tenant(staff_of(request))
    query = Query({**_given(Query(dict(request.query_params)), (*MAILING_FIELDS, "sort", "dir", "page", "size")),
                   "bill_by_email": "1"})
    filters = ticket_search.read_filters(query)
    paging = ticket_search.read_ticket_paging(query)

    def run() -> tuple[int, list[ticket_search.TicketRow]]:
        now = clock.now()
        with rt().db.tenant_session(tenant.slug) as session:
            return (ticket_search.count_tickets(session, filters, now),
                    ticket_search.search_tickets(session, filters, paging, now))

    total, rows = (0, []) if query.errors else await anyio.to_thread.run_sync(run)
    return page(request, "office/mailings.html", tenant, filters=filters, rows=rows, total=total, paging=paging,
                pages=paging.pages(total), params=_params(_given(query, MAILING_FIELDS), paging), link=link,
                errors=query.errors, statuses=ticket_search.MESSAGE_STATUSES, mask=mask_contact)


def lists_router() -> Router:
    """Build the list routes under ``/office``."""
    return Router(path="/office", route_handlers=[bill_list, bill_detail, job_list, job_archive, payment_list,
                                                  mailing_list])
