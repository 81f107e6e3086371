"""``tickets.latest_status`` on PostgreSQL: one update per INSERT statement, row updates for status changes."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update

from bolletta.platform import clock
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.tenant import Bill, Job, Message, Ticket
from bolletta.tenants.registry import create_tenant

pytestmark = pytest.mark.services

TENANT = "stato"


@pytest.fixture(scope="module", autouse=True)
def tenants(db: Database) -> None:
    """Create the module's tenant in the run's database."""
    create_tenant(db, TENANT, "Stato Energia")


@pytest.fixture
def tickets(db: Database) -> list[int]:
    """Three tickets of one new bill, without messages."""
    now = clock.now()
    with db.tenant_session(TENANT) as session:
        digest = secrets.token_hex(32)
        job = Job(state="dispatched", filename="prova.zip", source="test", archive_sha256=digest, archive_key="k",
                  archive_size=0, opened_by="test", created_at=now, updated_at=now, report={})
        session.add(job)
        session.flush()
        bill = Bill(public_id=digest[:22], job_id=job.id, source_file="prova.xml", document_number=digest[:12],
                    year=2026, document_type="TD01", issue_date=date(2026, 11, 5), amount_due=Decimal("10.00"),
                    service="electricity", customer_code="C1", customer_name="Cliente Prova", warnings=[],
                    details={}, created_at=now)
        session.add(bill)
        session.flush()
        ids = []
        for position in range(3):
            ticket = Ticket(bill_id=bill.id, job_id=job.id, channel="email", address=f"c{position}@example.org",
                            created_at=now, expires_at=now + timedelta(days=15))
            session.add(ticket)
            session.flush()
            ids.append(ticket.id)
        session.commit()
    return ids


def _message(ticket_id: int, key: str, status: str) -> dict[str, object]:
    now = clock.now()
    return {"ticket_id": ticket_id, "plugin": "outbox", "status": status, "idempotency_key": key,
            "created_at": now, "updated_at": now}


def _statuses(db: Database, ids: list[int]) -> list[str | None]:
    with db.tenant_session(TENANT) as session:
        found = dict(session.execute(select(Ticket.id, Ticket.latest_status).where(Ticket.id.in_(ids))).all())
    return [found[ticket_id] for ticket_id in ids]


def test_one_statement_sets_newest_per_ticket(db: Database, tickets: list[int]) -> None:
    first, second, third = tickets
    with db.tenant_session(TENANT) as session:
        session.execute(insert(Message), [
            _message(first, f"a{first}", "failed"), _message(first, f"b{first}", "sent"),
            _message(second, f"a{second}", "created"),
        ])
        session.commit()

    assert _statuses(db, [first, second, third]) == ["sent", "created", None]


def test_later_insert_and_status_change(db: Database, tickets: list[int]) -> None:
    first = tickets[0]
    with db.tenant_session(TENANT) as session:
        session.execute(insert(Message), [_message(first, f"a{first}", "failed")])
        session.commit()
        session.execute(insert(Message), [_message(first, f"b{first}", "sent")])
        session.commit()
        after_insert = _statuses(db, [first])
        session.execute(update(Message).where(Message.idempotency_key == f"b{first}").values(status="delivered"))
        session.commit()
        after_newest = _statuses(db, [first])
        session.execute(update(Message).where(Message.idempotency_key == f"a{first}").values(status="timeout"))
        session.commit()
        after_older = _statuses(db, [first])

    assert after_insert == ["sent"]
    assert after_newest == ["delivered"]
    assert after_older == ["delivered"]


def test_unchanged_status_leaves_ticket_row(db: Database, tickets: list[int]) -> None:
    first = tickets[0]
    row_version = f"SELECT xmin::text FROM tenant_{TENANT}.tickets WHERE id = {first}"
    with db.tenant_session(TENANT) as session:
        session.execute(update(Ticket).where(Ticket.id == first).values(latest_status="created"))
        session.commit()
        before = session.connection().exec_driver_sql(row_version).scalar_one()
        session.commit()
        session.execute(insert(Message), [_message(first, f"a{first}", "created")])
        session.commit()
        after = session.connection().exec_driver_sql(row_version).scalar_one()

    # xmin changes with every new version of the row, so an update that wrote the same value shows.
    assert after == before
