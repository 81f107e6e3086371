"""Query and path parameters the API's searches share: ids, pages, sort order, bounded texts and amounts.

Every number a parameter carries is bounded, and the schema states the bounds. So no value reaches
the database that SQLite's 64-bit integers or PostgreSQL's ``integer`` columns cannot store.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request
from litestar.params import FromQuery, PathParameter, QueryParameter

from bolletta.platform import audit
from bolletta.platform.api.tokens import SCOPE_CONTACTS_READ, ApiCaller
from bolletta.platform.office.listing import MAX_PAGE_SIZE, PAGE_SIZE, Paging
from bolletta.platform.privacy import mask_contact
from bolletta.platform.web.context import client_ip, rt

MAX_ID = 2**31 - 1
"""Largest id of a row: the maximum of PostgreSQL's ``integer``."""
MAX_PAGE = 1_000_000
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"
"""No control characters: PostgreSQL rejects NUL in a text value."""
AMOUNT = r"^-?[0-9]{1,12}([.,][0-9]{1,2})?$"

ObjectId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The object's id.")]
OptionalId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
Year = Annotated[int | None, QueryParameter(ge=1900, le=9999)]
PageNumber = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Page number, from 1.")]
PerPage = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description=f"Results per page, 1 to {MAX_PAGE_SIZE}.")]
Order = FromQuery[Literal["asc", "desc"]]
OptionalDate = FromQuery[date | None]
Flag = FromQuery[bool]
Amount = Annotated[str | None, QueryParameter(pattern=AMOUNT, description="An amount in euro, such as 80.50 or 80,50.")]
Text40 = Annotated[str | None, QueryParameter(max_length=40, pattern=PLAIN_TEXT)]
Text60 = Annotated[str | None, QueryParameter(max_length=60, pattern=PLAIN_TEXT)]
Text200 = Annotated[str | None, QueryParameter(max_length=200, pattern=PLAIN_TEXT)]
Text254 = Annotated[str | None, QueryParameter(max_length=254, pattern=PLAIN_TEXT)]
DEFAULT_PER_PAGE = PAGE_SIZE


def paging(page: int, per_page: int, sort: str, order: str) -> Paging:
    """Return the backoffice's paging for the API's ``page``, ``per_page``, ``sort`` and ``order``."""
    return Paging(page=page, size=per_page, sort=sort, descending=order == "desc")


def amount(value: str | None) -> Decimal | None:
    """Return an :data:`Amount` parameter as a decimal; a comma may separate the cents."""
    return None if value is None else Decimal(value.replace(",", "."))


class PageMeta(msgspec.Struct):
    """Position of a page in the results: ``total`` results over ``pages`` pages of ``per_page``."""

    total: int
    page: int
    per_page: int
    pages: int


def page_meta(paging_: Paging, total: int) -> PageMeta:
    """Return the page information of ``paging_`` for ``total`` results."""
    return PageMeta(total=total, page=paging_.page, per_page=paging_.size, pages=paging_.pages(total))


def may_see_contacts(caller: ApiCaller) -> bool:
    """True when the token may read contacts in full (scope ``contacts:read``)."""
    return SCOPE_CONTACTS_READ in caller.scopes


def shown_contact(caller: ApiCaller, address: str) -> str:
    """Return ``address`` in full to a token with ``contacts:read``, else masked."""
    return address if may_see_contacts(caller) else mask_contact(address)


def without_contact(text: str | None, address: str, shown: str) -> str | None:
    """Return a provider's message ``text`` with the ticket's contact replaced by ``shown``.

    Providers quote the recipient in errors ("invalid number 3331234567"), with or without +39.
    """
    if text is None or shown == address:
        return text
    for form in sorted({address, address.removeprefix("+39")} - {""}, key=len, reverse=True):
        text = text.replace(form, shown)
    return text


def audit_contacts_read(request: Request[Any, Any, Any], caller: ApiCaller, target: str, count: int) -> None:
    """Audit a response that showed ``count`` full contacts; nothing when the token saw them masked."""
    if count == 0 or not may_see_contacts(caller):
        return
    with rt().db.tenant_session(caller.tenant) as session:
        audit.record(session, actor=caller.actor, action="personal_data.bulk_read", target=target,
                     ip=client_ip(request), detail={"api": request.url.path, "contacts": count,
                                                    "token": caller.token_name})
        session.commit()
