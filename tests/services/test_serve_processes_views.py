"""``bolletta serve --processes 2`` on PostgreSQL and Redis: customer page views reach the database
through the view writer process, and SIGTERM stores the last ones."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from bolletta.platform.db.models.tenant import Bill, Event, Ticket
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.tokens import new_token, token_hash
from tests.integration.privacy.people import add_customer
from tests.services.dispatch_support import SECRET, configure, new_tenant
from tests.services.scale_support import free_port, scrape

pytestmark = pytest.mark.services

REPO_ROOT = Path(__file__).resolve().parents[2]
TENANT = "vedute"
PAGES = 30
RELAYED = ("bolletta_page_views_relayed_total", frozenset())
WRITTEN_BY_WRITER = ("bolletta_page_views_written_total", frozenset({("writer", "view_writer")}))


@pytest.fixture(scope="module")
def rt(database_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    configured = configure(database_url, broker_url, f"bolletta-views-{uuid.uuid4().hex[:10]}",
                           tmp_path_factory.mktemp("serve-views"))
    new_tenant(configured, TENANT)
    yield configured
    configured.db.dispose()


def _token(rt: Runtime) -> tuple[int, str]:
    """Store a customer with one ticket and return the ticket's id and a token that opens it."""
    customer = add_customer(rt, TENANT, "SV001", "RSSMRA80A01H501U")
    ticket_id = customer.ticket_ids[0]
    token = new_token()
    with rt.db.tenant_session(TENANT) as session:
        # The privacy data set's bill details are not a flow's; the page needs none of them.
        session.execute(update(Bill).where(Bill.id == customer.bill_ids[0]).values(details={}))
        session.execute(update(Ticket).where(Ticket.id == ticket_id)
                        .values(token_hash=token_hash(rt.ticket_key, token), first_viewed_at=None))
        session.commit()
    return ticket_id, token


def _kinds(rt: Runtime, ticket_id: int) -> list[str]:
    with rt.db.tenant_session(TENANT) as session:
        return list(session.scalars(select(Event.kind).where(Event.ticket_id == ticket_id)))


def test_views_written_through_writer_process(rt: Runtime, tmp_path: Path) -> None:
    ticket_id, token = _token(rt)
    before = _kinds(rt, ticket_id)
    port = free_port()
    settings = rt.settings
    env = {key: value for key, value in os.environ.items() if not key.startswith("BOLLETTA_")} | {
        "BOLLETTA_DATABASE_URL": settings.database_url, "BOLLETTA_BROKER_URL": settings.broker_url,
        "BOLLETTA_BROKER_NAMESPACE": settings.broker_namespace, "BOLLETTA_SECRET_KEY": SECRET,
        "BOLLETTA_DATA_DIR": settings.data_dir, "BOLLETTA_TENANT_PATH_PREFIX": "true",
        "BOLLETTA_COOKIE_SECURE": "false", "BOLLETTA_OPERATIONS_EMAIL": "",
        "BOLLETTA_HTTP_HOST": "127.0.0.1", "BOLLETTA_HTTP_PORT": str(port),
        "BOLLETTA_PLATFORM_HOST": f"127.0.0.1:{port}",
    }
    log = tmp_path / "serve.log"
    with log.open("ab") as output:
        server = subprocess.Popen([sys.executable, "-m", "bolletta", "serve", "--processes", "2"], cwd=REPO_ROOT,
                                  env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if (httpx.get(f"{base}/health/live", timeout=2).status_code == 200
                        and re.search(r"page view writer \d+ listening", log.read_text(errors="replace"))):
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)

        with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as client:
            opened = client.get(f"/c/{TENANT}/t/{token}")
            assert opened.status_code == 200, log.read_text(errors="replace")[-3000:]
            page = str(opened.url.path)
            for _ in range(PAGES - 1):
                assert client.get(page).status_code == 200
        ready = httpx.get(f"{base}/health/ready", timeout=10)
        deadline = time.monotonic() + 30
        while (samples := scrape(base)).get(WRITTEN_BY_WRITER, 0) < PAGES:
            assert time.monotonic() < deadline, f"views written by the writer: {samples.get(WRITTEN_BY_WRITER)}"
            time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=90)

    output = log.read_text(errors="replace")
    assert server.returncode == 0, output
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["optional"]["view_writer"] == {"ok": True,
                                                       "detail": "view writer process accepted a connection"}
    assert samples[RELAYED] == PAGES
    assert samples[WRITTEN_BY_WRITER] == PAGES
    assert samples.get(("bolletta_page_views_fallback_total", frozenset()), 0) == 0
    assert samples[("bolletta_view_writer_starts_total", frozenset())] == 1
    assert samples[("bolletta_view_writer_up", frozenset())] == 1
    assert "page view writer unreachable" not in output
    after = _kinds(rt, ticket_id)
    with rt.db.tenant_session(TENANT) as session:
        viewed_at = session.scalar(select(Ticket.first_viewed_at).where(Ticket.id == ticket_id))
    assert viewed_at is not None
    assert after.count("viewed") == before.count("viewed") + 1
    assert after.count("section_viewed") == before.count("section_viewed") + PAGES
