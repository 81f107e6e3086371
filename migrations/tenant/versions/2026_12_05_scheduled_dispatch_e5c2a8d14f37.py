"""Let an operator schedule the start of an approved job's dispatch

Revision ID: e5c2a8d14f37
Revises: 10057da8b8b1
Create Date: 2026-12-05 03:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5c2a8d14f37"
down_revision: str | None = "10057da8b8b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("jobs", schema=schema) as batch_op:
        batch_op.add_column(sa.Column("dispatch_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("dispatch_scheduled_by", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_jobs_dispatch_at"), ["dispatch_at"], unique=False)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("jobs", schema=schema) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_dispatch_at"))
        batch_op.drop_column("dispatch_scheduled_by")
        batch_op.drop_column("dispatch_at")
