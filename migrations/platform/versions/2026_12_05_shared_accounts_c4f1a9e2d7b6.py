"""Platform-owned channel accounts shared by tenants, and their usage per tenant and month

Revision ID: c4f1a9e2d7b6
Revises: b3e8d1f4a6c2
Create Date: 2026-12-05 07:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4f1a9e2d7b6"
down_revision: str | None = "b3e8d1f4a6c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shared_accounts",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_shared_accounts")),
        schema="platform",
    )
    op.create_table(
        "shared_account_usage",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "account", "month", "kind", name=op.f("pk_shared_account_usage")),
        schema="platform",
    )


def downgrade() -> None:
    op.drop_table("shared_account_usage", schema="platform")
    op.drop_table("shared_accounts", schema="platform")
