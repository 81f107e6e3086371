"""Make the audit log append-only in the database: updates and deletes of its rows fail

Revision ID: 10057da8b8b1
Revises: 9bb775077e1e
Create Date: 2026-12-04 23:20:00

The retention job that will delete audit entries older than ten years must drop and recreate these
triggers inside its own transaction; no code changes audit entries today.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "10057da8b8b1"
down_revision: str | None = "9bb775077e1e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit entries are append-only"


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries "
                       f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
        return
    quoted = f'"{schema}"'
    op.execute(f"""
        CREATE FUNCTION {quoted}.audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '{MESSAGE}';
        END
        $$""")
    op.execute(f"CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON {quoted}.audit_entries "
               f"FOR EACH ROW EXECUTE FUNCTION {quoted}.audit_entries_append_only()")


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
        return
    op.execute(f'DROP TRIGGER IF EXISTS audit_entries_append_only ON "{schema}".audit_entries')
    op.execute(f'DROP FUNCTION IF EXISTS "{schema}".audit_entries_append_only()')
