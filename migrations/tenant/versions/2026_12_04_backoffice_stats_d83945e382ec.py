"""Statistics rollup by day, its refresh mark, background exports and search indexes

Revision ID: d83945e382ec
Revises: b7e4c1a93d52
Create Date: 2026-12-04 22:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d83945e382ec"
down_revision: str | None = "b7e4c1a93d52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("s2s_errors", sa.Integer(), nullable=False),
        sa.Column("viewed", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("timeouts", sa.Integer(), nullable=False),
        sa.Column("viewed_payable", sa.Integer(), nullable=False),
        sa.Column("paid", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "job_id", "channel", name=op.f("pk_stats_days")),
        schema="tenant",
    )
    refresh = op.create_table(
        "stats_refresh",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mark", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_refresh")),
        schema="tenant",
    )
    # The one row a refresh locks; seeded here so concurrent first refreshes never race to insert it.
    op.bulk_insert(refresh, [{"id": 1, "mark": None}])
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=500), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
        schema="tenant",
    )
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("exports", schema=schema) as batch_op:
        batch_op.create_index(batch_op.f("ix_exports_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("messages", schema=schema) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_ticket_id_id"), ["ticket_id", "id"], unique=False)
    with op.batch_alter_table("tickets", schema=schema) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_first_viewed_at"), ["first_viewed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_job_id_created_at"), ["job_id", "created_at"], unique=False)
    with op.batch_alter_table("payments", schema=schema) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("payments", schema=schema) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_updated_at"))
    with op.batch_alter_table("tickets", schema=schema) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_job_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_tickets_first_viewed_at"))
    with op.batch_alter_table("messages", schema=schema) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_ticket_id_id"))
        batch_op.drop_index(batch_op.f("ix_messages_updated_at"))
    with op.batch_alter_table("exports", schema=schema) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exports_user_id"))
    op.drop_table("exports", schema="tenant")
    op.drop_table("stats_refresh", schema="tenant")
    op.drop_table("stats_days", schema="tenant")
