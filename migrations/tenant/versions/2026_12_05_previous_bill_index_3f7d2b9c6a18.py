"""Index the bills by customer code, service and issue date for the review of amount changes

Revision ID: 3f7d2b9c6a18
Revises: e5c2a8d14f37
Create Date: 2026-12-05 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3f7d2b9c6a18"
down_revision: str | None = "e5c2a8d14f37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("bills", schema=schema) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bills_customer_code_service_issue_date_id"),
            ["customer_code", "service", "issue_date", "id"],
            unique=False,
        )


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("bills", schema=schema) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bills_customer_code_service_issue_date_id"))
