"""The two declarative bases: platform tables and per-tenant tables.

Tenant models are declared against the placeholder schema ``tenant``. A tenant-scoped session maps
it to ``tenant_<slug>`` on PostgreSQL, or to the tenant's own SQLite file, through SQLAlchemy's
``schema_translate_map``. A session without that map has no ``tenant`` schema to read, so an
unscoped query on tenant tables fails instead of reading someone else's rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import MetaData, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator, TypeEngine

PLATFORM_SCHEMA = "platform"
TENANT_SCHEMA = "tenant"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class PlatformBase(DeclarativeBase):
    """Tables shared by every tenant: tenants, logins, SFTP accounts, platform audit."""

    metadata = MetaData(schema=PLATFORM_SCHEMA, naming_convention=NAMING_CONVENTION)


class TenantBase(DeclarativeBase):
    """Tables of one tenant's business data, bound to its schema or file per session."""

    metadata = MetaData(schema=TENANT_SCHEMA, naming_convention=NAMING_CONVENTION)


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal stored exactly: ``NUMERIC(20, 8)`` on PostgreSQL, text on SQLite.

    SQLite has no decimal type and would round-trip amounts through binary floats, so there the
    value is kept as its decimal string. Values come back normalised to the scale they were
    written with on SQLite, and with 8 decimals on PostgreSQL: format them, never compare strings.
    """

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(20, 8, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value)
