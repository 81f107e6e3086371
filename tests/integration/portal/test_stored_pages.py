"""Bill pages stored in the tenant's storage: rendered ahead at dispatch, shared, and dropped when stale.

Each web process keeps pages in memory too. Clearing :data:`cache.PAGES` and the access cache
makes the next request behave as the first one of another process, which finds pages only in
the storage.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Ticket
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.portal import access_cache, cache, prerender, stored_pages
from bolletta.platform.portal.view_events import PageView, ViewWriter
from tests.integration.portal.helpers import Portal, is_payable


def summary_path(bill: Bill) -> str:
    return f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario"


def stored_keys(portal: Portal, bill: Bill) -> list[str]:
    prefix = f"{DEMO_SLUG}/{stored_pages.PAGES_FOLDER}/{bill.public_id}/"
    return [key for key in portal.rt.storage.tenant_keys(DEMO_SLUG) if key.startswith(prefix)]


def as_another_process() -> None:
    """Forget what this process keeps in memory, so pages come from the storage or a new render."""
    cache.PAGES.clear()
    access_cache.clear()


def test_dispatch_stores_summary_pages(portal: Portal) -> None:
    _token, bill = portal.reuse_token(lambda _bill: True)

    stored = stored_keys(portal, bill)

    assert stored, "dispatch did not store the summary page of a bill with a ticket"
    assert all(key.endswith(".html") for key in stored)


def test_render_bill_pages_runs_twice_safely(portal: Portal) -> None:
    _token, bill = portal.reuse_token(lambda _bill: True)

    counts = prerender.render_bill_pages(portal.rt, DEMO_SLUG, [bill.id, 10**9])

    assert counts["bills"] == 2
    assert counts["missing"] == 1
    assert counts["rendered"] + counts["stored_already"] == 1
    assert prerender.render_bill_pages(portal.rt, DEMO_SLUG, [bill.id])["stored_already"] == 1


def test_stored_page_served_to_another_process(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda _bill: True)

    with portal.client() as client:
        first = portal.open_bill(client, token)
        as_another_process()
        for key in stored_keys(portal, bill):
            portal.rt.storage.put(DEMO_SLUG, key.split("/", 1)[1],
                                  portal.rt.storage.get(key).replace(b"</main>", b"<!-- stored --></main>"))
        try:
            again = client.get(summary_path(bill))
        finally:
            stored_pages.purge(portal.rt.storage, DEMO_SLUG, {bill.public_id})

    assert first.status_code == again.status_code == 200
    assert "<!-- stored -->" in again.text
    assert bill.document_number in again.text


def test_payment_shows_on_stored_page(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda bill: is_payable(bill) and not portal.payments(bill.id))

    with portal.client() as client:
        before = portal.open_bill(client, token)
        with portal.rt.db.tenant_session(DEMO_SLUG) as session:
            stored = session.get_one(Bill, bill.id)
            stored.paid_at = clock.now()
            session.commit()
        as_another_process()
        try:
            after = client.get(summary_path(bill))
        finally:
            with portal.rt.db.tenant_session(DEMO_SLUG) as session:
                session.get_one(Bill, bill.id).paid_at = None
                session.commit()

    assert '/paga"' in before.text
    assert after.status_code == 200
    assert '/paga"' not in after.text


def test_edited_bill_drops_stored_pages(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda _bill: True)
    renamed = "Cliente Rettificato Di Prova"

    with portal.client() as client:
        before = portal.open_bill(client, token)
        assert stored_keys(portal, bill)
        with portal.rt.db.tenant_session(DEMO_SLUG) as session:
            session.get_one(Bill, bill.id).customer_name = renamed
            session.commit()
        dropped = stored_keys(portal, bill)
        try:
            after = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/dati")
        finally:
            with portal.rt.db.tenant_session(DEMO_SLUG) as session:
                session.get_one(Bill, bill.id).customer_name = bill.customer_name
                session.commit()

    assert before.status_code == after.status_code == 200
    assert dropped == []
    assert renamed in after.text


def test_warnings_edit_keeps_stored_pages(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda _bill: True)

    with portal.client() as client:
        portal.open_bill(client, token)
    stored = stored_keys(portal, bill)
    with portal.rt.db.tenant_session(DEMO_SLUG) as session:
        edited = session.get_one(Bill, bill.id)
        edited.warnings = [*edited.warnings, {"code": "test"}]
        session.commit()
    kept = stored_keys(portal, bill)
    with portal.rt.db.tenant_session(DEMO_SLUG) as session:
        session.get_one(Bill, bill.id).warnings = bill.warnings
        session.commit()

    assert stored
    assert kept == stored


def test_language_switch_serves_each_language(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda _bill: True)

    with portal.client() as client:
        portal.open_bill(client, token)
        english = client.get(summary_path(bill) + "?lang=en")
        as_another_process()
        english_again = client.get(summary_path(bill))
        italian = client.get(summary_path(bill) + "?lang=it")
        as_another_process()
        italian_again = client.get(summary_path(bill))

    assert '<html lang="en"' in english.text
    assert '<html lang="en"' in english_again.text
    assert '<html lang="it"' in italian.text
    assert '<html lang="it"' in italian_again.text
    assert "Amount due" in english_again.text
    assert "Amount due" not in italian_again.text


def test_staff_preview_neither_recorded_nor_stored(portal: Portal) -> None:
    import anyio

    from bolletta.platform.portal.routes import preview_section
    from bolletta.tenants.registry import get_tenant

    _token, bill = portal.reuse_token(lambda _bill: True)
    events_before = portal.bill_event_kinds(bill.id)
    stored_before = stored_keys(portal, bill)

    html = anyio.run(preview_section, get_tenant(portal.rt.db, DEMO_SLUG), bill.id, "sommario", "de")

    assert html is not None and bill.document_number in html
    assert portal.bill_event_kinds(bill.id) == events_before
    assert stored_keys(portal, bill) == stored_before


def page_views(portal: Portal, count: int) -> tuple[int, list[str], list[PageView]]:
    """Views of a new ticket that no browser opens, with the ticket's events before them."""
    _token, bill = portal.reuse_token(lambda _bill: True)
    now = clock.now()
    with portal.rt.db.tenant_session(DEMO_SLUG) as session:
        ticket = Ticket(bill_id=bill.id, job_id=bill.job_id, channel="email", address=f"writer{count}@example.org",
                        created_at=now, expires_at=now + timedelta(days=1), origin="staff")
        session.add(ticket)
        session.commit()
    views = [PageView(tenant=DEMO_SLUG, ticket_id=ticket.id, bill_id=ticket.bill_id, channel=ticket.channel,
                      at=clock.now(), section="sommario", language="it", switched=False, first_view=True)
             for _index in range(count)]
    return ticket.id, portal.event_kinds(ticket.id), views


def test_background_writer_records_each_view_once(portal: Portal) -> None:
    ticket_id, before, views = page_views(portal, 5)

    async def record_then_flush() -> list[str]:
        writer = ViewWriter(portal.rt)
        for view in views:
            writer.record(view)
        written_before_flush = portal.event_kinds(ticket_id)
        await writer.flush()
        return written_before_flush

    written_before_flush = asyncio.run(record_then_flush())

    kinds = portal.event_kinds(ticket_id)
    assert written_before_flush == before, "record() waited for the database"
    assert kinds.count("section_viewed") == before.count("section_viewed") + 5
    assert kinds.count("viewed") == before.count("viewed") + 1


def test_cancelled_write_recorded_once_at_exit(portal: Portal) -> None:
    ticket_id, before, views = page_views(portal, 3)
    writer = ViewWriter(portal.rt)

    async def record_then_stop() -> None:
        for view in views:
            writer.record(view)
        await asyncio.sleep(0)  # the write loop starts and waits for its connection
        assert writer.task is not None
        writer.task.cancel()
        await asyncio.gather(writer.task, return_exceptions=True)

    asyncio.run(record_then_stop())
    queued_at_exit = len(writer.queued)
    writer.write_remaining()

    kinds = portal.event_kinds(ticket_id)
    assert queued_at_exit == 3
    assert kinds.count("section_viewed") == before.count("section_viewed") + 3
    assert kinds.count("viewed") == before.count("viewed") + 1
