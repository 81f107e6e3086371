"""Keep the smart-bill sections beyond the core columns on each bill

Revision ID: 7c3d9e2f4a61
Revises: 5a1c2e7d9b10
Create Date: 2026-12-04 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3d9e2f4a61"
down_revision: str | None = "5a1c2e7d9b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    # ALTER TABLE is rendered without the connection's schema_translate_map, so name the real
    # schema: the tenant's on PostgreSQL, none on SQLite.
    return op.get_context().version_table_schema


def upgrade() -> None:
    with op.batch_alter_table("bills", schema=_schema()) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("bills", schema=_schema()) as batch_op:
        batch_op.drop_column("details")
