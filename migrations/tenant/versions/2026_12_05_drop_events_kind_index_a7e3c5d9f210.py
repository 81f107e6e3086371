"""Drop the index on events.kind, which no query uses

Events are read by ticket, by bill, or by time for retention, never by kind alone, and a kind has
thousands of rows, so the index only cost work on every insert: a customer's page view adds an
event, several thousand a second at peak.

Revision ID: a7e3c5d9f210
Revises: 5d2f8a1c3e94
Create Date: 2026-12-05 10:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7e3c5d9f210"
down_revision: str | None = "5d2f8a1c3e94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("events", schema=schema) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_kind"))


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("events", schema=schema) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_kind"), ["kind"], unique=False)
