"""The task outbox: work is enqueued only after its transaction commits; the broker in use."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import func, select

from bolletta.platform import clock, tasks, workers
from bolletta.platform.db.models.tenant import OutboxTask
from bolletta.platform.jobs import states
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.settings import load_settings
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import load_job, mails_to, wait_idle, zip_archive

FAILED_EVENT_SUBJECT = "lavorazione non riuscita"


def failed_job(stack: EmbeddedStack, tenant: str) -> int:
    """A job that failed quickly, to address notifications to."""
    archive = zip_archive({"IT01234567890_00001.xml": b"<not-xml"})
    job_id = open_job(stack.rt, tenant, archive, "broken.zip", source="api", opened_by="api:test").job_id
    wait_idle(stack)
    assert load_job(stack, tenant, job_id).state == states.FAILED
    return job_id


def outbox_rows(stack: EmbeddedStack, tenant: str) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return session.scalar(select(func.count(OutboxTask.id))) or 0


def failure_mails(stack: EmbeddedStack, tenant: str) -> int:
    mails = mails_to(stack, f"staff@{tenant}.example")
    return sum(FAILED_EVENT_SUBJECT in str(mail.message["Subject"]) for mail in mails)


def test_rollback_enqueues_nothing(stack: EmbeddedStack, mail_tenant: str) -> None:
    tenant = mail_tenant
    job_id = failed_job(stack, tenant)
    rows_before = outbox_rows(stack, tenant)
    mails_before = failure_mails(stack, tenant)

    with stack.rt.db.tenant_session(tenant) as session:
        tasks.defer(session, "notify_job", tenant, job_id, states.FAILED)
        session.flush()
        assert session.scalar(select(func.count(OutboxTask.id))) == rows_before + 1
        session.rollback()
        # A later commit of the same session must not bring the rolled-back message back.
        session.commit()
    wait_idle(stack)

    assert outbox_rows(stack, tenant) == rows_before
    assert tasks.relay(stack.rt.db, tenant) == 0
    wait_idle(stack)
    assert failure_mails(stack, tenant) == mails_before


def test_commit_enqueues_after_commit(stack: EmbeddedStack, mail_tenant: str) -> None:
    tenant = mail_tenant
    job_id = failed_job(stack, tenant)
    mails_before = failure_mails(stack, tenant)

    with stack.rt.db.tenant_session(tenant) as session:
        tasks.defer(session, "notify_job", tenant, job_id, states.FAILED)
        session.commit()
    wait_idle(stack)

    with stack.rt.db.tenant_session(tenant) as session:
        last = session.scalars(select(OutboxTask).order_by(OutboxTask.id.desc())).first()
    assert last is not None
    assert (last.actor, last.args) == ("notify_job", [tenant, job_id, states.FAILED])
    assert last.sent_at is not None
    assert failure_mails(stack, tenant) == mails_before + 1


def test_relay_sends_rows_left_unsent(stack: EmbeddedStack, mail_tenant: str) -> None:
    tenant = mail_tenant
    job_id = failed_job(stack, tenant)
    mails_before = failure_mails(stack, tenant)
    with stack.rt.db.tenant_session(tenant) as session:
        # A row committed without the after-commit relay, as when the broker was down.
        session.add(OutboxTask(actor="notify_job", args=[tenant, job_id, states.FAILED], created_at=clock.now()))
        session.commit()

    assert tasks.relay(stack.rt.db, tenant) == 1
    assert tasks.relay(stack.rt.db, tenant) == 0
    wait_idle(stack)
    assert failure_mails(stack, tenant) == mails_before + 1


def test_empty_broker_url_uses_stub_broker(stack: EmbeddedStack) -> None:
    settings = load_settings(environ={"BOLLETTA_BROKER_URL": ""}, data_dir=stack.rt.settings.data_dir)

    broker = workers.setup_broker(settings)

    assert settings.broker_url == ""
    assert type(broker) is StubBroker
    assert dramatiq.get_broker() is broker
    for actor_name in ("parse_job", "send_test_batch", "create_tickets", "send_message", "notify_job"):
        assert broker.get_actor(actor_name).broker is broker
