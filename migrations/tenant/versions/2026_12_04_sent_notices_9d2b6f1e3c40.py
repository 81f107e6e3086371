"""Claim staff e-mails so a redelivered message sends each once

Revision ID: 9d2b6f1e3c40
Revises: 7c3d9e2f4a61
Create Date: 2026-12-04 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d2b6f1e3c40"
down_revision: str | None = "7c3d9e2f4a61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sent_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_sent_notices_key")),
        schema="tenant",
    )


def downgrade() -> None:
    op.drop_table("sent_notices", schema="tenant")
