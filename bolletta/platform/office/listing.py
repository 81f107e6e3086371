"""Helpers every backoffice list shares: filters read from the query string, pages and sort order.

Filters arrive as the query string of a GET form, so a list's address can be bookmarked and its
export link carries the same filters. A value that cannot be read is reported by field name and the
list is not run, rather than run without that filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Numeric, cast

from bolletta.platform.clock import ROME

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass
class Query:
    """The query string of a list page with typed readers that collect the errors they meet."""

    params: Mapping[str, str]
    errors: list[str] = field(default_factory=list)
    """Names of the fields whose values could not be read."""

    def text(self, name: str, max_length: int = 200) -> str | None:
        """Return a trimmed text, or ``None`` when empty."""
        value = (self.params.get(name) or "").strip()
        if not value:
            return None
        if len(value) > max_length:
            self.errors.append(name)
            return None
        return value

    def integer(self, name: str) -> int | None:
        """Return a whole number, or ``None`` when empty."""
        value = self.text(name, 20)
        if value is None:
            return None
        try:
            return int(value.lstrip("#"))
        except ValueError:
            self.errors.append(name)
            return None

    def day(self, name: str) -> date | None:
        """Return a date given as ``YYYY-MM-DD`` (the HTML date input) or ``DD/MM/YYYY``, or ``None`` when empty."""
        value = self.text(name, 20)
        if value is None:
            return None
        for layout in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.strptime(value, layout).replace(tzinfo=UTC).date()
            except ValueError:
                continue
        self.errors.append(name)
        return None

    def amount(self, name: str) -> Decimal | None:
        """Return an amount in euro with a comma or a point for the decimals, or ``None`` when empty."""
        value = self.text(name, 30)
        if value is None:
            return None
        cleaned = value.replace("€", "").replace(" ", "")
        if "," in cleaned:
            cleaned = cleaned.replace(".", "").replace(",", ".")
        try:
            return Decimal(cleaned)
        except InvalidOperation:
            self.errors.append(name)
            return None

    def flag(self, name: str) -> bool:
        """Return whether a checkbox is ticked: present with any value but ``0``."""
        return (self.params.get(name) or "") not in ("", "0")

    def choice(self, name: str, allowed: tuple[str, ...] | frozenset[str]) -> str | None:
        """Return one of ``allowed``, or ``None`` when empty."""
        value = self.text(name, 40)
        if value is None:
            return None
        if value not in allowed:
            self.errors.append(name)
            return None
        return value


EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def rome_start(day: date) -> datetime:
    """Return the UTC instant at which ``day`` begins in Europe/Rome.

    The first day of year 1 begins before the earliest ``datetime``, so it maps to :data:`EARLIEST`.
    """
    try:
        return datetime.combine(day, time(0), tzinfo=ROME).astimezone(UTC)
    except OverflowError:
        return EARLIEST


def rome_range(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC bounds ``[start, end)`` of the Europe/Rome days ``first`` to ``last`` inclusive.

    A range up to 31 December 9999, the last ``date``, ends at :data:`LATEST`.
    """
    end = LATEST if last == date.max else rome_start(last + timedelta(days=1))
    return rome_start(first), end


@dataclass(frozen=True)
class Paging:
    """Page number, page size and sort order of a list."""

    page: int
    size: int
    sort: str
    descending: bool

    @property
    def offset(self) -> int:
        """Rows skipped before this page."""
        return (self.page - 1) * self.size

    def pages(self, total: int) -> int:
        """Number of pages for ``total`` rows; one for an empty list."""
        return max((total + self.size - 1) // self.size, 1)


def read_paging(query: Query, sort_keys: tuple[str, ...], default_sort: str) -> Paging:
    """Page, size and sort from ``page``, ``size``, ``sort`` and ``dir``; unknown values fall back to defaults."""
    page = query.integer("page") or 1
    size = query.integer("size") or PAGE_SIZE
    sort = query.params.get("sort") or default_sort
    if sort not in sort_keys:
        sort = default_sort
    direction = query.params.get("dir") or "desc"
    return Paging(page=max(page, 1), size=min(max(size, 1), MAX_PAGE_SIZE), sort=sort,
                  descending=direction != "asc")


def link(params: Mapping[str, Any], **changes: Any) -> str:
    """Build the query string of ``params`` with ``changes`` applied, leaving out empty values."""
    merged = {**params, **changes}
    return urlencode([(key, str(value)) for key, value in merged.items() if value not in (None, "")])


def numeric(column: Any) -> Any:
    """Cast an exact-decimal column to a number the database compares and sorts numerically.

    SQLite keeps these amounts as text, where ``"80.00" <= "80"`` is false and ``"100"`` sorts
    before ``"80"``.
    """
    return cast(column, Numeric(20, 8))
