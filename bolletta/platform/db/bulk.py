"""Bulk inserts (``COPY ... FROM STDIN`` on PostgreSQL, executemany on SQLite) and bulk lookups."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, cast

from psycopg import sql
from sqlalchemy import Column, ColumnElement, Table, any_, bindparam, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session


def insert_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into the table of ``model``.

    Nothing is returned: callers that need the new ids read them back by a unique key. On
    PostgreSQL the rows go through one text ``COPY``, because compiling multi-row ``INSERT``
    statements cost SQLAlchemy more time than the database spent storing the rows. SQLite runs
    executemany in C.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    # COPY goes around the unit of work, so pending ORM objects (such as a parent row) go first.
    session.flush()
    _copy_rows(session.connection(), model.__table__, rows)


def _copy_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Send ``rows`` through ``COPY`` with the values SQLAlchemy would bind in an ``INSERT``.

    Each value, ``None`` too, passes the column type's bind processor (``ExactDecimal``, and JSON,
    which stores ``None`` as JSON ``null`` as in an ``INSERT``). Columns missing
    from the rows get their client-side default (``default=``) like an ``INSERT`` would give them.
    Columns without one are left out of the column list, so PostgreSQL applies its own default,
    such as the identity of the primary key.
    """
    dialect = connection.dialect
    row_keys = list(rows[0].keys())
    defaulted = [
        column for column in table.columns
        if column.key not in rows[0] and column.default is not None and not column.primary_key
    ]
    columns = [table.columns[key] for key in row_keys] + defaulted
    processors = [_bind_processor(column, dialect) for column in columns]
    defaults = [_default_value(column) for column in defaulted]

    schema_map = connection.get_execution_options().get("schema_translate_map") or {}
    schema = schema_map.get(table.schema, table.schema)
    target = sql.Identifier(schema, table.name) if schema else sql.Identifier(table.name)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(sql.Identifier(column.name) for column in columns)
    )

    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row[key] for key in row_keys] + [default() for default in defaults]
            copy.write_row([
                value if process is None else process(value)
                for process, value in zip(processors, values, strict=True)
            ])


def copy_tuples(session: Session, model: type[Any], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Send ``rows`` (tuples in the order of ``columns``) to the table of ``model`` with ``COPY`` (PostgreSQL only).

    Unlike :func:`insert_rows`, no column type processes the values and no default is added: each
    value goes as psycopg writes it, so a JSON column takes the JSON text itself. For writers that
    insert many small rows often, where building and processing a dict per row costs more than the
    insert (page views).
    """
    if not rows:
        return
    session.flush()
    connection = session.connection()
    table = model.__table__
    schema_map = connection.get_execution_options().get("schema_translate_map") or {}
    schema = schema_map.get(table.schema, table.schema)
    target = sql.Identifier(schema, table.name) if schema else sql.Identifier(table.name)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(sql.Identifier(table.columns[key].name) for key in columns)
    )
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _bind_processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _default_value(column: Column[Any]) -> Callable[[], Any]:
    """Return a function that builds the value of ``column.default`` for one row."""
    default = column.default
    if default is None or not (default.is_scalar or default.is_callable):
        raise ValueError(
            f"column {column.table.name}.{column.name}: COPY supports scalar and callable defaults only, "
            "so pass its value in every row"
        )
    arg: Any = default.arg  # type: ignore[attr-defined]
    if default.is_scalar:
        return lambda: arg
    # SQLAlchemy wraps a default callable to take the execution context. COPY has none, so it gets None.
    return lambda: arg(None)


def among(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """Return the condition ``column IN values``, written as ``column = ANY(array)`` on PostgreSQL.

    The array is one parameter. An ``IN`` list of a thousand values is a thousand parameters, and
    psycopg 3.3 parses a query text longer than 4,096 characters again on every execution, in Python.
    """
    if session.get_bind().dialect.name != "postgresql":
        return cast("ColumnElement[bool]", column.in_(values))
    return cast("ColumnElement[bool]", column == any_(bindparam(None, list(values), type_=ARRAY(column.type))))
