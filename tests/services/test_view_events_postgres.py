"""Page views written on PostgreSQL, where the events go in with ``COPY`` from the writer's thread."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, select

from bolletta.platform import clock, runtime
from bolletta.platform.db import migrate
from bolletta.platform.db.models.tenant import Event, Ticket
from bolletta.platform.portal.view_events import PageView, ViewWriter
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings
from bolletta.tenants.registry import create_tenant
from tests.integration.privacy.people import add_customer

pytestmark = pytest.mark.services

SECRET = "v" * 48
TENANT = "views"


@pytest.fixture(scope="module")
def rt(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    settings = load_settings(environ={}, data_dir=str(tmp_path_factory.mktemp("views")),
                             database_url=database_url, secret_key=SECRET)
    configured = runtime.configure(settings)
    migrate.upgrade_platform(configured.db)
    create_tenant(configured.db, TENANT, "Views Energia")
    yield configured
    configured.db.dispose()


def _views(rt: Runtime, count: int) -> tuple[int, list[PageView]]:
    customer = add_customer(rt, TENANT, f"VW{count:03d}", "RSSMRA80A01H501U")
    ticket_id = customer.ticket_ids[0]
    with rt.db.tenant_session(TENANT) as session:
        ticket = session.get_one(Ticket, ticket_id)
        channel, bill_id = ticket.channel, ticket.bill_id
    views = [PageView(tenant=TENANT, ticket_id=ticket_id, bill_id=bill_id, channel=channel, at=clock.now(),
                      section="sommario", language="en", switched=index == 0, first_view=True)
             for index in range(count)]
    return ticket_id, views


def _events(rt: Runtime, ticket_id: int) -> list[Event]:
    with rt.db.tenant_session(TENANT) as session:
        return list(session.scalars(select(Event).where(Event.ticket_id == ticket_id).order_by(Event.id)))


def test_background_writer_copies_views_once(rt: Runtime) -> None:
    ticket_id, views = _views(rt, 7)
    before = [event.kind for event in _events(rt, ticket_id)]

    async def record_then_flush() -> None:
        writer = ViewWriter(rt)
        for view in views:
            writer.record(view)
        await writer.flush()

    asyncio.run(record_then_flush())

    events = _events(rt, ticket_id)[len(before):]
    kinds = [event.kind for event in events]
    assert kinds.count("viewed") == 1
    assert kinds.count("section_viewed") == 7
    assert kinds.count("language_changed") == 1
    assert {"section": "sommario"} in [event.data for event in events]
    assert {"language": "en"} in [event.data for event in events]
    with rt.db.tenant_session(TENANT) as session:
        assert session.get_one(Ticket, ticket_id).first_viewed_at is not None


def test_events_without_foreign_keys(rt: Runtime) -> None:
    """Migration ``c8e1f4a2b7d3`` on PostgreSQL: no foreign keys to check per view, both indexes kept."""
    with rt.db.tenant_engine(TENANT).connect() as connection:
        inspector = inspect(connection)
        schema = f"tenant_{TENANT}"
        keys = inspector.get_foreign_keys("events", schema=schema)
        indexes = {index["name"] for index in inspector.get_indexes("events", schema=schema)}

    assert keys == []
    assert indexes == {"ix_events_ticket_id", "ix_events_bill_id"}
