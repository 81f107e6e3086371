"""Delivery reports, quiet-hour waits, SMS parts, fallbacks and the suppression list

Revision ID: b7e4c1a93d52
Revises: c41e8a7b2d90
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e4c1a93d52"
down_revision: str | None = "c41e8a7b2d90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    # ALTER TABLE is rendered without the connection's schema_translate_map (see 5a1c2e7d9b10).
    return op.get_context().version_table_schema


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=_schema()) as batch_op:
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sms_encoding", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("sms_parts", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("origin", sa.String(length=40), server_default="dispatch", nullable=False))
        batch_op.create_index(batch_op.f("ix_messages_not_before"), ["not_before"], unique=False)
    with op.batch_alter_table("tickets", schema=_schema()) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=20), server_default="dispatch", nullable=False))
        batch_op.add_column(sa.Column("previous_ticket_id", sa.Integer(), nullable=True))
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint("channel", "address", name=op.f("uq_suppressions_channel_address")),
        schema="tenant",
    )


def downgrade() -> None:
    op.drop_table("suppressions", schema="tenant")
    with op.batch_alter_table("tickets", schema=_schema()) as batch_op:
        batch_op.drop_column("previous_ticket_id")
        batch_op.drop_column("origin")
    with op.batch_alter_table("messages", schema=_schema()) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_not_before"))
        for column in ("origin", "sms_parts", "sms_encoding", "reported_at", "read_at", "delivered_at", "not_before"):
            batch_op.drop_column(column)
