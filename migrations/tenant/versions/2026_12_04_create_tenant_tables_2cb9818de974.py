"""create tenant tables

Revision ID: 2cb9818de974
Revises: 
Create Date: 2026-12-04 20:15:33.038280
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bolletta.platform.db.base


revision: str = '2cb9818de974'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    schema='tenant'
    )
    with op.batch_alter_table('audit_entries', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('archive_sha256', sa.String(length=64), nullable=False),
    sa.Column('archive_key', sa.String(length=500), nullable=False),
    sa.Column('archive_size', sa.Integer(), nullable=False),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('bills_accepted', sa.Integer(), nullable=False),
    sa.Column('bills_rejected', sa.Integer(), nullable=False),
    sa.Column('test_round', sa.Integer(), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('started_by', sa.String(length=200), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('archive_sha256', name=op.f('uq_jobs_archive_sha256')),
    schema='tenant'
    )
    with op.batch_alter_table('jobs', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_state'), ['state'], unique=False)

    op.create_table('stored_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plugin', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_stored_messages_idempotency_key')),
    schema='tenant'
    )
    op.create_table('task_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_outbox')),
    schema='tenant'
    )
    with op.batch_alter_table('task_outbox', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_task_outbox_sent_at'), ['sent_at'], unique=False)

    op.create_table('bills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('source_file', sa.String(length=500), nullable=False),
    sa.Column('body_index', sa.Integer(), nullable=False),
    sa.Column('document_number', sa.String(length=60), nullable=False),
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('document_type', sa.String(length=10), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', bolletta.platform.db.base.ExactDecimal(length=40), nullable=True),
    sa.Column('amount_due', bolletta.platform.db.base.ExactDecimal(length=40), nullable=False),
    sa.Column('payment_method', sa.String(length=10), nullable=True),
    sa.Column('direct_debit', sa.Boolean(), nullable=False),
    sa.Column('payable_online', sa.Boolean(), nullable=False),
    sa.Column('service', sa.String(length=20), nullable=False),
    sa.Column('seller_name', sa.String(length=200), nullable=False),
    sa.Column('customer_code', sa.String(length=60), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('fiscal_code', sa.String(length=28), nullable=True),
    sa.Column('vat_number', sa.String(length=30), nullable=True),
    sa.Column('customer_address', sa.String(length=500), nullable=True),
    sa.Column('pod', sa.String(length=20), nullable=True),
    sa.Column('pdr', sa.String(length=20), nullable=True),
    sa.Column('supply_address', sa.String(length=500), nullable=True),
    sa.Column('period_from', sa.Date(), nullable=True),
    sa.Column('period_to', sa.Date(), nullable=True),
    sa.Column('consumption', bolletta.platform.db.base.ExactDecimal(length=40), nullable=True),
    sa.Column('consumption_unit', sa.String(length=10), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=True),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('pdf_key', sa.String(length=500), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['tenant.jobs.id'], name=op.f('fk_bills_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bills')),
    sa.UniqueConstraint('document_number', 'series', 'year', name=op.f('uq_bills_document_number_series_year')),
    sa.UniqueConstraint('public_id', name=op.f('uq_bills_public_id')),
    schema='tenant'
    )
    with op.batch_alter_table('bills', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_bills_customer_code'), ['customer_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_document_number'), ['document_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_job_id'), ['job_id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_code', sa.String(length=60), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['tenant.jobs.id'], name=op.f('fk_contacts_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    schema='tenant'
    )
    with op.batch_alter_table('contacts', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_customer_code'), ['customer_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_job_id'), ['job_id'], unique=False)

    op.create_table('job_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['tenant.jobs.id'], name=op.f('fk_job_transitions_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_transitions')),
    schema='tenant'
    )
    with op.batch_alter_table('job_transitions', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_job_transitions_job_id'), ['job_id'], unique=False)

    op.create_table('cost_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=1000), nullable=False),
    sa.Column('amount', bolletta.platform.db.base.ExactDecimal(length=40), nullable=False),
    sa.Column('quantity', bolletta.platform.db.base.ExactDecimal(length=40), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('unit_price', bolletta.platform.db.base.ExactDecimal(length=40), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['tenant.bills.id'], name=op.f('fk_cost_lines_bill_id_bills')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_lines')),
    schema='tenant'
    )
    with op.batch_alter_table('cost_lines', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_lines_bill_id'), ['bill_id'], unique=False)

    op.create_table('instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('amount', bolletta.platform.db.base.ExactDecimal(length=40), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('method', sa.String(length=10), nullable=True),
    sa.Column('notice_code', sa.String(length=30), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['tenant.bills.id'], name=op.f('fk_instalments_bill_id_bills')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instalments')),
    schema='tenant'
    )
    with op.batch_alter_table('instalments', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_instalments_bill_id'), ['bill_id'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('test_round', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_viewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['tenant.bills.id'], name=op.f('fk_tickets_bill_id_bills')),
    sa.ForeignKeyConstraint(['job_id'], ['tenant.jobs.id'], name=op.f('fk_tickets_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('bill_id', 'channel', 'address', 'is_test', 'test_round', name=op.f('uq_tickets_bill_id_channel_address_is_test_test_round')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_tickets_token_hash')),
    schema='tenant'
    )
    with op.batch_alter_table('tickets', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_job_id'), ['job_id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['tenant.bills.id'], name=op.f('fk_events_bill_id_bills')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tenant.tickets.id'], name=op.f('fk_events_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    schema='tenant'
    )
    with op.batch_alter_table('events', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_events_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('plugin', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_message_id', sa.String(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tenant.tickets.id'], name=op.f('fk_messages_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_messages_idempotency_key')),
    schema='tenant'
    )
    with op.batch_alter_table('messages', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('instalment_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('gateway', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('amount', bolletta.platform.db.base.ExactDecimal(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('provider_reference', sa.String(length=200), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['tenant.bills.id'], name=op.f('fk_payments_bill_id_bills')),
    sa.ForeignKeyConstraint(['instalment_id'], ['tenant.instalments.id'], name=op.f('fk_payments_instalment_id_instalments')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tenant.tickets.id'], name=op.f('fk_payments_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('order_id', name=op.f('uq_payments_order_id')),
    schema='tenant'
    )
    with op.batch_alter_table('payments', schema='tenant') as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payments', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_status'))
        batch_op.drop_index(batch_op.f('ix_payments_bill_id'))

    op.drop_table('payments', schema='tenant')
    with op.batch_alter_table('messages', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_messages_status'))

    op.drop_table('messages', schema='tenant')
    with op.batch_alter_table('events', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_events_kind'))
        batch_op.drop_index(batch_op.f('ix_events_bill_id'))

    op.drop_table('events', schema='tenant')
    with op.batch_alter_table('tickets', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_job_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_created_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_bill_id'))

    op.drop_table('tickets', schema='tenant')
    with op.batch_alter_table('instalments', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_instalments_bill_id'))

    op.drop_table('instalments', schema='tenant')
    with op.batch_alter_table('cost_lines', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_lines_bill_id'))

    op.drop_table('cost_lines', schema='tenant')
    with op.batch_alter_table('job_transitions', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_transitions_job_id'))

    op.drop_table('job_transitions', schema='tenant')
    with op.batch_alter_table('contacts', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_job_id'))
        batch_op.drop_index(batch_op.f('ix_contacts_customer_code'))

    op.drop_table('contacts', schema='tenant')
    with op.batch_alter_table('bills', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_bills_job_id'))
        batch_op.drop_index(batch_op.f('ix_bills_document_number'))
        batch_op.drop_index(batch_op.f('ix_bills_customer_code'))

    op.drop_table('bills', schema='tenant')
    with op.batch_alter_table('task_outbox', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_outbox_sent_at'))

    op.drop_table('task_outbox', schema='tenant')
    op.drop_table('stored_messages', schema='tenant')
    with op.batch_alter_table('jobs', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_state'))
        batch_op.drop_index(batch_op.f('ix_jobs_created_at'))

    op.drop_table('jobs', schema='tenant')
    with op.batch_alter_table('audit_entries', schema='tenant') as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))

    op.drop_table('audit_entries', schema='tenant')
