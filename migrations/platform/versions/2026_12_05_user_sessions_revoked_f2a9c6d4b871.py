"""Record when a user's staff sessions were ended, so older session cookies stop working

Revision ID: f2a9c6d4b871
Revises: 1c5dfb54a27d
Create Date: 2026-12-05 00:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2a9c6d4b871"
down_revision: str | None = "1c5dfb54a27d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=op.get_context().version_table_schema) as batch_op:
        batch_op.add_column(sa.Column("sessions_revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=op.get_context().version_table_schema) as batch_op:
        batch_op.drop_column("sessions_revoked_at")
