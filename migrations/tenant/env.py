"""Alembic environment for the tenant level; `bolletta db upgrade` drives it, never alembic.ini.

The caller passes an open connection whose ``schema_translate_map`` binds the placeholder
schema to the real one, so the same revision files serve PostgreSQL schemas and SQLite files.
"""

from alembic import context

import bolletta.platform.db.models.tenant  # noqa: F401  (registers the models on the metadata)
from bolletta.platform.db.base import TenantBase

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=TenantBase.metadata,
    version_table_schema=context.config.attributes["version_schema"],
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
