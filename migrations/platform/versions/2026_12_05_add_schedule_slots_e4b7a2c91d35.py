"""add schedule slots for periodic tasks

Revision ID: e4b7a2c91d35
Revises: 7c3e91a4d2f6
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e4b7a2c91d35"
down_revision: str | None = "7c3e91a4d2f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_slots",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_schedule_slots")),
        schema="platform",
    )


def downgrade() -> None:
    op.drop_table("schedule_slots", schema="platform")
