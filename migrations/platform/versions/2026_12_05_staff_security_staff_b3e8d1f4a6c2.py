"""Mark users who must enrol TOTP again after an admin's reset, and count sign-in failures per address

Revision ID: b3e8d1f4a6c2
Revises: 9d41c7e2b3a8
Create Date: 2026-12-05 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3e8d1f4a6c2"
down_revision: str | None = "9d41c7e2b3a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_source_failures",
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username", "client_ip", name=op.f("pk_login_source_failures")),
        schema="platform",
    )
    with op.batch_alter_table("users", schema=op.get_context().version_table_schema) as batch_op:
        batch_op.add_column(sa.Column("totp_enrolment_due", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=op.get_context().version_table_schema) as batch_op:
        batch_op.drop_column("totp_enrolment_due")
    op.drop_table("login_source_failures", schema="platform")
