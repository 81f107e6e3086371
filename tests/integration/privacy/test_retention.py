"""The retention purge: bills and their files after the tenant's period, events and audit entries by
age, the daily scheduling, and nothing younger touched. Time is moved with the platform clock."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from sqlalchemy import select, update

from bolletta.platform.clock import use_clock
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.db.models.tenant import (
    AuditEntry,
    Contact,
    Event,
    Export,
    Job,
    OutboxTask,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from bolletta.platform.privacy.retention import months_before, purge_tenant
from bolletta.platform.privacy.schedule import defer_due_purges
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.config import RetentionSettings
from bolletta.tenants.registry import get_tenant, save_config, tenant_config
from tests.integration.privacy.people import Customer, add_customer, snapshot
from tests.integration.stack_support import create_test_tenant, new_slug, wait_idle


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def _purge_at(stack: EmbeddedStack, tenant: str, moment: str) -> dict[str, int]:
    with use_clock(lambda: utc(moment)):
        return purge_tenant(stack.rt, tenant)


def _gone(stack: EmbeddedStack, tenant: str, customer: Customer) -> None:
    rows = snapshot(stack.rt, tenant, customer)
    for kind, found in rows.items():
        assert found == [], f"{kind} of {customer.code} not purged"
    for key in customer.storage_keys(tenant):
        assert not stack.rt.storage.exists(key), key


def _contact_codes(stack: EmbeddedStack, tenant: str) -> list[str]:
    with stack.rt.db.tenant_session(tenant) as session:
        return sorted(session.scalars(select(Contact.customer_code)))


@pytest.mark.parametrize(("moment", "months", "expected"), [
    ("2027-03-31 10:00", 1, "2027-02-28 10:00"),
    ("2027-01-15 10:00", 24, "2025-01-15 10:00"),
    ("2027-01-15 10:00", 13, "2025-12-15 10:00"),
    ("2028-02-29 10:00", 12, "2027-02-28 10:00"),
])
def test_months_before(moment: str, months: int, expected: str) -> None:
    assert months_before(utc(moment), months) == utc(expected)


def test_bills_purged_after_period(stack: EmbeddedStack, tenant: str) -> None:
    expired = add_customer(stack.rt, tenant, "RET001", "RSSMRA80A01H501U", bills=2, expires="2025-01-25 00:00",
                           paid="2025-01-11 10:00")
    paid_late = add_customer(stack.rt, tenant, "RET002", "VRDLGU75B02F205X", expires="2025-01-25 00:00",
                             paid="2025-06-01 10:00", event_at="2025-06-01 10:00")
    open_link = add_customer(stack.rt, tenant, "RET003", "BNCGNN60C03L219Z", expires="2025-05-01 00:00",
                             event_at="2025-05-01 10:00")
    kept = [snapshot(stack.rt, tenant, paid_late), snapshot(stack.rt, tenant, open_link)]

    too_soon = _purge_at(stack, tenant, "2027-01-24 23:00")
    counts = _purge_at(stack, tenant, "2027-03-01 00:00")

    assert too_soon["bills"] == 0
    assert counts["bills"] == 2
    assert counts["tickets"] == 2
    assert counts["payments"] == 2
    assert counts["files"] == 8
    _gone(stack, tenant, expired)
    assert [snapshot(stack.rt, tenant, paid_late), snapshot(stack.rt, tenant, open_link)] == kept
    for key in paid_late.storage_keys(tenant) + open_link.storage_keys(tenant):
        assert stack.rt.storage.exists(key), key
    assert _contact_codes(stack, tenant) == ["RET002", "RET003"]
    assert counts["contacts"] == 1


def test_raised_retention_keeps_bills(stack: EmbeddedStack, tenant: str) -> None:
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    save_config(stack.rt.db, tenant, msgspec.structs.replace(
        config, retention=RetentionSettings(bill_months=120, event_months=120)))
    customer = add_customer(stack.rt, tenant, "RET010", "RSSMRA80A01H501U", expires="2025-01-25 00:00")
    before = snapshot(stack.rt, tenant, customer)

    after_two_years = _purge_at(stack, tenant, "2027-03-01 00:00")
    kept = snapshot(stack.rt, tenant, customer)
    after_ten_years = _purge_at(stack, tenant, "2035-01-26 00:00")

    assert after_two_years["bills"] == 0
    assert kept == before
    assert after_ten_years["bills"] == 1
    _gone(stack, tenant, customer)


def test_events_and_audit_by_age(stack: EmbeddedStack, tenant: str) -> None:
    customer = add_customer(stack.rt, tenant, "RET020", "RSSMRA80A01H501U", bills=2, event_at="2025-02-01 10:00")
    with stack.rt.db.tenant_session(tenant) as session:
        newer = Event(bill_id=customer.bill_ids[1], kind="viewed", at=utc("2025-04-01 10:00"), data={})
        session.add(newer)
        for moment in ("2017-02-28 10:00", "2017-03-02 10:00"):
            session.add(AuditEntry(at=utc(moment), actor="old.admin", action="ticket.revoke", target="ticket:1"))
        session.commit()
        newer_id = newer.id

    counts = _purge_at(stack, tenant, "2027-03-01 12:00")

    assert counts["bills"] == 0
    assert counts["events"] == 2
    assert counts["audit_entries"] == 1
    with stack.rt.db.tenant_session(tenant) as session:
        assert list(session.scalars(select(Event.id))) == [newer_id]
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.at)))
    assert [entry.at.date().isoformat() for entry in entries[:1]] == ["2017-03-02"]
    purge = entries[-1]
    assert purge.action == "retention.purge"
    assert purge.detail["counts"]["events"] == 2


def test_archive_of_emptied_job_deleted(stack: EmbeddedStack, tenant: str) -> None:
    expired = add_customer(stack.rt, tenant, "RET030", "RSSMRA80A01H501U", expires="2025-01-25 00:00")
    kept = add_customer(stack.rt, tenant, "RET031", "VRDLGU75B02F205X", expires="2025-12-01 00:00")
    keys = {}
    with stack.rt.db.tenant_session(tenant) as session:
        for customer in (expired, kept):
            key = stack.rt.storage.put(tenant, f"archives/{customer.code}.zip", b"PK archive")
            session.execute(update(Job).where(Job.filename == f"{customer.code}.zip").values(archive_key=key))
            keys[customer.code] = key
        session.commit()

    counts = _purge_at(stack, tenant, "2027-03-01 00:00")

    assert counts["archives"] == 1
    assert not stack.rt.storage.exists(keys["RET030"])
    assert stack.rt.storage.exists(keys["RET031"])


def test_exports_and_webhooks_by_age(stack: EmbeddedStack, tenant: str) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        endpoint = WebhookEndpoint(url="https://erp.example/hook", events=["job.state_changed"], secret_sealed="x",
                                   created_at=utc("2024-01-01 00:00"), created_by="admin")
        session.add(endpoint)
        session.flush()
        for moment, status in (("2025-02-01 10:00", "delivered"), ("2025-02-01 10:00", "pending"),
                               ("2025-04-01 10:00", "failed")):
            delivery = WebhookDelivery(endpoint_id=endpoint.id, event="job.state_changed", object_key="job:1",
                                       body="{}", status=status, created_at=utc(moment))
            session.add(delivery)
            session.flush()
            session.add(WebhookAttempt(delivery_id=delivery.id, at=utc(moment), status_code=200))
        for number, moment in enumerate(("2025-02-01 10:00", "2025-04-01 10:00")):
            key = stack.rt.storage.put(tenant, f"exports/{number}.csv", b"CLIENTE;...")
            session.add(Export(actor="admin", kind="tickets", file_format="csv", language="it", state="ready",
                               storage_key=key, created_at=utc(moment)))
        session.commit()

    counts = _purge_at(stack, tenant, "2027-03-01 00:00")

    assert counts["exports"] == 1
    assert counts["webhook_deliveries"] == 1
    assert not stack.rt.storage.exists(f"{tenant}/exports/0.csv")
    assert stack.rt.storage.exists(f"{tenant}/exports/1.csv")
    with stack.rt.db.tenant_session(tenant) as session:
        left = sorted((row.status, row.created_at.month) for row in session.scalars(select(WebhookDelivery)))
        attempts = len(session.scalars(select(WebhookAttempt.id)).all())
        exports = len(session.scalars(select(Export.id)).all())
    assert left == [("failed", 4), ("pending", 2)]
    assert attempts == 2
    assert exports == 1


def test_purge_logs_counts_only(stack: EmbeddedStack, tenant: str, caplog: pytest.LogCaptureFixture) -> None:
    customer = add_customer(stack.rt, tenant, "RET040", "RSSMRA80A01H501U", expires="2025-01-25 00:00")
    caplog.set_level(logging.INFO, logger="bolletta.platform.privacy.retention")

    _purge_at(stack, tenant, "2027-03-01 00:00")

    (record,) = [item for item in caplog.records if item.name == "bolletta.platform.privacy.retention"]
    message = record.getMessage()
    assert "bills 1" in message
    for personal in (customer.code, customer.address, customer.fiscal_code, customer.public_ids[0]):
        assert personal not in message


def test_purge_queued_daily(stack: EmbeddedStack) -> None:
    active = create_test_tenant(stack, new_slug("ret"))
    suspended = create_test_tenant(stack, new_slug("ret"))
    with stack.rt.db.platform_session() as session:
        session.execute(update(Tenant).where(Tenant.slug == suspended).values(status="suspended"))
        session.commit()
    now = [datetime(2027, 3, 1, 3, 0, tzinfo=UTC)]

    with use_clock(lambda: now[0]):
        first = defer_due_purges(stack.rt)
        now[0] += timedelta(hours=23, minutes=59)
        too_soon = defer_due_purges(stack.rt)
        now[0] += timedelta(minutes=1)
        next_day = defer_due_purges(stack.rt)
        wait_idle(stack)

    assert active in first
    assert suspended not in first
    assert active not in too_soon
    assert active in next_day
    with stack.rt.db.tenant_session(active) as session:
        queued = session.scalars(select(OutboxTask.actor).where(OutboxTask.actor == "purge_expired_data")).all()
        audited = session.scalars(select(AuditEntry.action)).all()
    with stack.rt.db.tenant_session(suspended) as session:
        assert session.scalars(select(OutboxTask.id)).all() == []
    assert len(queued) == 2
    assert audited == []
