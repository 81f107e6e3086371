"""Keep the onboarding wizard's answers for each utility being onboarded

Revision ID: a7d3e5b1c920
Revises: f2a9c6d4b871
Create Date: 2026-12-05 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7d3e5b1c920"
down_revision: str | None = "f2a9c6d4b871"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenant_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("completed", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=150), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_slug", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_drafts")),
        schema="platform",
    )


def downgrade() -> None:
    op.drop_table("tenant_drafts", schema="platform")
