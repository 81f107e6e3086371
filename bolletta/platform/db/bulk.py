"""Bulk inserts that send many rows per statement on PostgreSQL and use executemany on SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

MAX_PARAMETERS = 20_000
"""Bound parameters per PostgreSQL statement, below its limit of 65,535."""


def insert_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in as few statements as the parameter limit allows.

    With psycopg 3, SQLAlchemy 2 sends an executemany insert without RETURNING as one statement per
    row, so PostgreSQL gets ``INSERT ... VALUES (...), (...), ...`` statements instead. Adding
    RETURNING to get SQLAlchemy's batched "insertmanyvalues" mode was slower: merging the returned
    rows of the batches took most of the time (SQLAlchemy 2.1). SQLite runs executemany in C.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    per_statement = max(1, MAX_PARAMETERS // len(rows[0]))
    for start in range(0, len(rows), per_statement):
        session.execute(insert(model).values(list(rows[start:start + per_statement])))
