"""Record the TOTP time step of each user's last accepted code, so a code signs in only once

Revision ID: 9d41c7e2b3a8
Revises: a7d3e5b1c920
Create Date: 2026-12-05 02:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d41c7e2b3a8"
down_revision: str | None = "a7d3e5b1c920"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=op.get_context().version_table_schema) as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=op.get_context().version_table_schema) as batch_op:
        batch_op.drop_column("totp_last_step")
