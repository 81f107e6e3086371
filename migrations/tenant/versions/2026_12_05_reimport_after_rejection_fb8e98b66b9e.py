"""Let a rejected job's archive and bills come back in a new job

Staff reject a job's test batch when its bills must not go out as they are (wrong amounts, no test
recipients). The utility then sends the same archive, or a corrected one with the same document
numbers, and that must open a new job that parses every bill. The rejected job stays for the audit
trail, so the two unique keys become partial:

- ``jobs.archive_sha256`` is unique among the jobs without the new ``released_at``, which is set
  when a job is rejected or fails;
- a bill's document number, series and year are unique among the bills without the new
  ``withdrawn_at``, which is set when the bill's job is rejected.

Jobs already rejected or failed are released, and the bills of rejected jobs withdrawn, at their
job's last change. The partial key no longer serves searches by document number over every bill,
so ``ix_bills_document_number`` comes back. The downgrade fails while a document number or an
archive is used both by a released job and by one in force, which the full keys cannot hold.

Revision ID: fb8e98b66b9e
Revises: c8e1f4a2b7d3
Create Date: 2026-12-05 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fb8e98b66b9e"
down_revision: str | None = "c8e1f4a2b7d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOB_IN_FORCE = "released_at IS NULL"
BILL_IN_FORCE = "withdrawn_at IS NULL"


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("jobs", schema=schema) as batch_op:
        batch_op.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint("uq_jobs_archive_sha256", type_="unique")
    with op.batch_alter_table("bills", schema=schema) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint("uq_bills_document_number_series_year", type_="unique")

    jobs = sa.table("jobs", sa.column("id"), sa.column("state"), sa.column("updated_at"), sa.column("released_at"),
                    schema=schema)
    bills = sa.table("bills", sa.column("job_id"), sa.column("withdrawn_at"), schema=schema)
    op.execute(jobs.update().where(jobs.c.state.in_(("test_rejected", "failed"))).values(released_at=jobs.c.updated_at))
    rejected_at = sa.select(jobs.c.updated_at).where(jobs.c.id == bills.c.job_id).scalar_subquery()
    op.execute(bills.update().where(bills.c.job_id.in_(sa.select(jobs.c.id).where(jobs.c.state == "test_rejected")))
               .values(withdrawn_at=rejected_at))

    op.create_index("uq_jobs_archive_sha256", "jobs", ["archive_sha256"], unique=True, schema=schema,
                    postgresql_where=sa.text(JOB_IN_FORCE), sqlite_where=sa.text(JOB_IN_FORCE))
    op.create_index("uq_bills_document_number_series_year", "bills", ["document_number", "series", "year"],
                    unique=True, schema=schema, postgresql_where=sa.text(BILL_IN_FORCE),
                    sqlite_where=sa.text(BILL_IN_FORCE))
    op.create_index("ix_bills_document_number", "bills", ["document_number"], schema=schema)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.drop_index("ix_bills_document_number", "bills", schema=schema)
    op.drop_index("uq_bills_document_number_series_year", "bills", schema=schema)
    op.drop_index("uq_jobs_archive_sha256", "jobs", schema=schema)
    with op.batch_alter_table("bills", schema=schema) as batch_op:
        batch_op.create_unique_constraint("uq_bills_document_number_series_year", ["document_number", "series", "year"])
        batch_op.drop_column("withdrawn_at")
    with op.batch_alter_table("jobs", schema=schema) as batch_op:
        batch_op.create_unique_constraint("uq_jobs_archive_sha256", ["archive_sha256"])
        batch_op.drop_column("released_at")
