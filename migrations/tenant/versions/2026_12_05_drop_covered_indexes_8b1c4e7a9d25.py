"""Drop the indexes whose columns lead a wider index on the same table

Each dropped index is a prefix of another index, which serves the same lookups, so the bulk
inserts of a flow and of its tickets maintain five indexes fewer:

- ``bills.customer_code``: ``ix_bills_customer_code_service_issue_date_id``;
- ``bills.document_number``: the unique key on document number, series and year;
- ``tickets.bill_id``: the unique key on bill, channel, address, test flag and round;
- ``tickets.job_id``: ``ix_tickets_job_id_created_at``;
- ``messages.ticket_id``: ``ix_messages_ticket_id_id``.

Revision ID: 8b1c4e7a9d25
Revises: 3f7d2b9c6a18
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8b1c4e7a9d25"
down_revision: str | None = "3f7d2b9c6a18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {
    "bills": [("ix_bills_customer_code", ["customer_code"]), ("ix_bills_document_number", ["document_number"])],
    "tickets": [("ix_tickets_bill_id", ["bill_id"]), ("ix_tickets_job_id", ["job_id"])],
    "messages": [("ix_messages_ticket_id", ["ticket_id"])],
}


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    for table, indexes in DROPPED.items():
        with op.batch_alter_table(table, schema=schema) as batch_op:
            for name, _columns in indexes:
                batch_op.drop_index(batch_op.f(name))


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    for table, indexes in DROPPED.items():
        with op.batch_alter_table(table, schema=schema) as batch_op:
            for name, columns in indexes:
                batch_op.create_index(batch_op.f(name), columns, unique=False)
