"""Update tickets' latest message status once per INSERT statement, and skip unchanged values

Revision ID: 5d2f8a1c3e94
Revises: 8b1c4e7a9d25
Create Date: 2026-12-05 10:10:00

The row trigger of revision 9bb775077e1e updated the ticket once for every message inserted, even
when the status was already the ticket's. Each such update writes a new version of the ticket row
and, on pages the bulk insert had filled, an entry in every index of ``tickets``. When dispatch
starts, it inserts one message per ticket in batches. On PostgreSQL an ``AFTER INSERT ... FOR EACH
STATEMENT`` trigger now reads the inserted rows from a transition table and updates only the
tickets whose status changes, and dispatch writes ``created`` on the tickets it inserts with their
first message. Status changes keep the row trigger (PostgreSQL allows no transition table on an
``UPDATE OF`` column list), which now also skips unchanged values. SQLite keeps row triggers, with
the same skip.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5d2f8a1c3e94"
down_revision: str | None = "8b1c4e7a9d25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_body(skip_unchanged: bool) -> str:
    unchanged = "AND latest_status IS NOT NEW.status" if skip_unchanged else ""
    return f"""
BEGIN
  UPDATE tickets SET latest_status = NEW.status
  WHERE id = NEW.ticket_id {unchanged}
    AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = NEW.ticket_id AND m.id > NEW.id);
END
"""


def _sqlite_triggers(skip_unchanged: bool) -> None:
    op.execute("DROP TRIGGER IF EXISTS messages_latest_status_insert")
    op.execute("DROP TRIGGER IF EXISTS messages_latest_status_update")
    body = _sqlite_body(skip_unchanged)
    op.execute(f"CREATE TRIGGER messages_latest_status_insert AFTER INSERT ON messages {body}")
    op.execute(f"CREATE TRIGGER messages_latest_status_update AFTER UPDATE OF status ON messages {body}")


def _row_function(quoted: str, skip_unchanged: bool) -> str:
    unchanged = "AND latest_status IS DISTINCT FROM NEW.status" if skip_unchanged else ""
    return f"""
        CREATE OR REPLACE FUNCTION {quoted}.messages_latest_status() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE {quoted}.tickets SET latest_status = NEW.status
          WHERE id = NEW.ticket_id {unchanged}
            AND NOT EXISTS (SELECT 1 FROM {quoted}.messages m WHERE m.ticket_id = NEW.ticket_id AND m.id > NEW.id);
          RETURN NULL;
        END
        $$"""


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers(skip_unchanged=True)
        return
    quoted = f'"{schema}"'
    op.execute(f"DROP TRIGGER messages_latest_status ON {quoted}.messages")
    op.execute(_row_function(quoted, skip_unchanged=True))
    op.execute(f"CREATE TRIGGER messages_latest_status_update AFTER UPDATE OF status ON {quoted}.messages "
               f"FOR EACH ROW EXECUTE FUNCTION {quoted}.messages_latest_status()")
    op.execute(f"""
        CREATE FUNCTION {quoted}.messages_latest_status_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE {quoted}.tickets t SET latest_status = n.status
          FROM (SELECT DISTINCT ON (ticket_id) ticket_id, id, status FROM inserted_messages
                ORDER BY ticket_id, id DESC) n
          WHERE t.id = n.ticket_id AND t.latest_status IS DISTINCT FROM n.status
            AND NOT EXISTS (SELECT 1 FROM {quoted}.messages m WHERE m.ticket_id = n.ticket_id AND m.id > n.id);
          RETURN NULL;
        END
        $$""")
    op.execute(f"CREATE TRIGGER messages_latest_status_insert AFTER INSERT ON {quoted}.messages "
               f"REFERENCING NEW TABLE AS inserted_messages "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {quoted}.messages_latest_status_inserted()")


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers(skip_unchanged=False)
        return
    quoted = f'"{schema}"'
    op.execute(f"DROP TRIGGER messages_latest_status_insert ON {quoted}.messages")
    op.execute(f"DROP FUNCTION {quoted}.messages_latest_status_inserted()")
    op.execute(f"DROP TRIGGER messages_latest_status_update ON {quoted}.messages")
    op.execute(_row_function(quoted, skip_unchanged=False))
    op.execute(f"CREATE TRIGGER messages_latest_status AFTER INSERT OR UPDATE OF status ON {quoted}.messages "
               f"FOR EACH ROW EXECUTE FUNCTION {quoted}.messages_latest_status()")
