"""Count failed staff sign-ins, keep each user's TOTP secret, and store password reset links

Revision ID: 1c5dfb54a27d
Revises: e4b7a2c91d35
Create Date: 2026-12-04 23:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1c5dfb54a27d"
down_revision: str | None = "e4b7a2c91d35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_failures")),
        schema="platform",
    )
    with op.batch_alter_table("users", schema=op.get_context().version_table_schema) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))
    op.create_table(
        "password_resets",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_password_resets")),
        schema="platform",
    )


def downgrade() -> None:
    op.drop_table("password_resets", schema="platform")
    with op.batch_alter_table("users", schema=op.get_context().version_table_schema) as batch_op:
        batch_op.drop_column("totp_secret")
    op.drop_table("login_failures", schema="platform")
