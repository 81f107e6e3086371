"""Keep gateway data on payments and record every payment notification

Revision ID: a98150c5768f
Revises: 9d2b6f1e3c40
Create Date: 2026-12-04 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a98150c5768f"
down_revision: str | None = "9d2b6f1e3c40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    # ALTER TABLE is rendered without the connection's schema_translate_map, so name the real
    # schema: the tenant's on PostgreSQL, none on SQLite.
    return op.get_context().version_table_schema


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=_schema()) as batch_op:
        batch_op.add_column(sa.Column("transaction_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("provider_data", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("test_mode", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("flag", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "payment_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=60), nullable=False),
        sa.Column("event_key", sa.String(length=300), nullable=True),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_notifications")),
        sa.UniqueConstraint("event_key", name=op.f("uq_payment_notifications_event_key")),
        schema="tenant",
    )
    op.create_index(op.f("ix_payment_notifications_received_at"), "payment_notifications", ["received_at"],
                    schema="tenant")


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_notifications_received_at"), table_name="payment_notifications", schema="tenant")
    op.drop_table("payment_notifications", schema="tenant")
    with op.batch_alter_table("payments", schema=_schema()) as batch_op:
        batch_op.drop_column("checked_at")
        batch_op.drop_column("flag")
        batch_op.drop_column("test_mode")
        batch_op.drop_column("provider_data")
        batch_op.drop_column("transaction_id")
