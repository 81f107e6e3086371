"""add SSH public keys of SFTP accounts

Revision ID: 7c3e91a4d2f6
Revises: a51bfbe94aa7
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e91a4d2f6"
down_revision: str | None = "a51bfbe94aa7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sftp_account_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key_type", sa.String(length=60), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=100), nullable=False),
        sa.Column("comment", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["platform.sftp_accounts.id"],
            name=op.f("fk_sftp_account_keys_account_id_sftp_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sftp_account_keys")),
        sa.UniqueConstraint("account_id", "fingerprint", name=op.f("uq_sftp_account_keys_account_id_fingerprint")),
        schema="platform",
    )
    with op.batch_alter_table("sftp_account_keys", schema="platform") as batch_op:
        batch_op.create_index(batch_op.f("ix_sftp_account_keys_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sftp_account_keys", schema="platform") as batch_op:
        batch_op.drop_index(batch_op.f("ix_sftp_account_keys_account_id"))
    op.drop_table("sftp_account_keys", schema="platform")
