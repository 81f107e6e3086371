"""Keep each ticket's latest message status on the ticket, maintained by a trigger

Revision ID: 9bb775077e1e
Revises: d83945e382ec
Create Date: 2026-12-04 23:00:00

"Ricerca ticket" filters on the latest message's status ("Stato SMS", "Ticket validi", "Errori
S2S"); reading it from ``messages`` for every candidate ticket cost about 300 ms for one job of a
2-million-ticket tenant. A trigger on ``messages`` copies the status of a ticket's newest message
to ``tickets.latest_status`` on every insert and status change, so no application code has to
remember it. ``NULL`` means the ticket has no message yet (shown as ``created``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9bb775077e1e"
down_revision: str | None = "d83945e382ec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_BODY = """
BEGIN
  UPDATE tickets SET latest_status = NEW.status
  WHERE id = NEW.ticket_id
    AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = NEW.ticket_id AND m.id > NEW.id);
END
"""


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("tickets", schema=schema) as batch_op:
        batch_op.add_column(sa.Column("latest_status", sa.String(length=20), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE tickets SET latest_status = (SELECT m.status FROM messages m "
                   "WHERE m.ticket_id = tickets.id ORDER BY m.id DESC LIMIT 1)")
        op.execute(f"CREATE TRIGGER messages_latest_status_insert AFTER INSERT ON messages {SQLITE_BODY}")
        op.execute(f"CREATE TRIGGER messages_latest_status_update AFTER UPDATE OF status ON messages {SQLITE_BODY}")
        return
    quoted = f'"{schema}"'
    op.execute(f"UPDATE {quoted}.tickets t SET latest_status = (SELECT m.status FROM {quoted}.messages m "
               f"WHERE m.ticket_id = t.id ORDER BY m.id DESC LIMIT 1)")
    op.execute(f"""
        CREATE FUNCTION {quoted}.messages_latest_status() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE {quoted}.tickets SET latest_status = NEW.status
          WHERE id = NEW.ticket_id
            AND NOT EXISTS (SELECT 1 FROM {quoted}.messages m WHERE m.ticket_id = NEW.ticket_id AND m.id > NEW.id);
          RETURN NULL;
        END
        $$""")
    op.execute(f"CREATE TRIGGER messages_latest_status AFTER INSERT OR UPDATE OF status ON {quoted}.messages "
               f"FOR EACH ROW EXECUTE FUNCTION {quoted}.messages_latest_status()")


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS messages_latest_status_insert")
        op.execute("DROP TRIGGER IF EXISTS messages_latest_status_update")
    else:
        op.execute(f'DROP TRIGGER IF EXISTS messages_latest_status ON "{schema}".messages')
        op.execute(f'DROP FUNCTION IF EXISTS "{schema}".messages_latest_status()')
    with op.batch_alter_table("tickets", schema=schema) as batch_op:
        batch_op.drop_column("latest_status")
