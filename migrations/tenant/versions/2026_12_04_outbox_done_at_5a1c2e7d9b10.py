"""Record when an outbox task's actor finished

Revision ID: 5a1c2e7d9b10
Revises: 2cb9818de974
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a1c2e7d9b10"
down_revision: str | None = "2cb9818de974"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    # ALTER TABLE is rendered without the connection's schema_translate_map, so name the real
    # schema: the tenant's on PostgreSQL, none on SQLite.
    return op.get_context().version_table_schema


def upgrade() -> None:
    with op.batch_alter_table("task_outbox", schema=_schema()) as batch_op:
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_task_outbox_done_at"), ["done_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_outbox", schema=_schema()) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_outbox_done_at"))
        batch_op.drop_column("done_at")
