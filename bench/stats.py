"""Benchmark of "Stat. ticket" and "Ricerca ticket" on PostgreSQL at the scale of a large utility.

Run from the repository root, with PostgreSQL on 127.0.0.1:

    .venv/bin/python bench/stats.py
    .venv/bin/python bench/stats.py --tickets 200000 --admin-url postgresql://postgres@127.0.0.1:5432/postgres

The script creates a fresh database, one tenant, and loads ``--tickets`` tickets of one year with
generate_series: 24 jobs, one bill per ticket but for 5% second tickets on e-mail for bills already
sent by SMS, one message per ticket (2% with an earlier failed message), delivery outcomes,
first views, ``viewed`` and ``link_opened`` events, and online payments. It then prints:

- the baseline: one plain ``SELECT channel, count(*) FROM tickets GROUP BY channel`` (median of 5);
- the time to build the statistics rollup from nothing (once, after a load or a restore);
- the page: the incremental refresh, the year figures, the month table and the rendered
  "Stat. ticket" page, as the route produces them (median of 5);
- the ticket search with three filters (count and first page), 95th percentile of 60 searches.

The last output line is ``ratio <baseline time / page time>``. The database is dropped at the end
unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bolletta.platform import clock
from bolletta.platform.clock import ROME
from bolletta.platform.db import migrate
from bolletta.platform.db.database import Database, tenant_schema
from bolletta.platform.office import ticket_search
from bolletta.platform.office.listing import Paging
from bolletta.platform.settings import load_settings
from bolletta.platform.stats import charts, rollup
from bolletta.platform.stats import figures as stats
from bolletta.platform.web.templates import environment
from bolletta.tenants.registry import create_tenant

SLUG = "bench"
JOBS = 24


def load(connection: psycopg.Connection[Any], schema: str, tickets: int, year: int) -> None:
    """Fill the tenant's tables with generate_series (deterministic: setseed)."""
    bills = tickets * 95 // 100
    job_day = "make_timestamptz({y}, (({j} - 1) / 2) + 1, CASE WHEN {j} % 2 = 1 THEN 3 ELSE 17 END, 6, 0, 0, 'UTC')"
    job_of_bill = f"(1 + ((b - 1) * {JOBS}) / {bills})"
    job_of_ticket = f"(1 + ((CASE WHEN t <= {bills} THEN t ELSE t - {bills} END - 1) * {JOBS}) / {bills})"
    statements = [
        "SELECT setseed(0.42)",
        f"""INSERT INTO "{schema}".jobs (id, state, filename, source, archive_sha256, archive_key, archive_size,
            opened_by, created_at, updated_at, report, bills_accepted, bills_rejected, test_round)
            SELECT j, 'dispatched', 'emissione_' || j || '.zip', 'sftp', md5(j::text) || md5((j + 99)::text),
                   'bench/' || j, 1, 'sftp:bench', {job_day.format(y=year, j='j')}, {job_day.format(y=year, j='j')},
                   '{{}}', {bills // JOBS}, 0, 1
            FROM generate_series(1, {JOBS}) j""",
        f"""INSERT INTO "{schema}".bills (id, public_id, job_id, source_file, body_index, document_number, series,
            year, document_type, issue_date, due_date, currency, total, amount_due, direct_debit, payable_online,
            service, seller_name, customer_code, customer_name, warnings, details, created_at)
            SELECT b, md5(b::text), {job_of_bill}, 'f.xml', 1, 'D' || b, 'A', {year}, 'TD01',
                   ({job_day.format(y=year, j=job_of_bill)})::date,
                   ({job_day.format(y=year, j=job_of_bill)})::date + 20,
                   'EUR', 50 + (b % 400), 50 + (b % 400), false, random() < 0.85, 'electricity', 'Bench S.p.A.',
                   'C' || (b % 900000), 'Cliente ' || b, '[]', '{{}}', {job_day.format(y=year, j=job_of_bill)}
            FROM generate_series(1, {bills}) b""",
        f"""INSERT INTO "{schema}".tickets (id, bill_id, job_id, channel, address, is_test, test_round, created_at,
            expires_at, first_viewed_at)
            SELECT t, s.bill, s.job, s.channel,
                   CASE WHEN s.channel = 'email' THEN 'c' || t || '@example.it'
                        ELSE '+39333' || lpad(t::text, 7, '0') END,
                   false, 0, s.created, s.created + interval '15 days',
                   CASE WHEN random() < 0.5 THEN s.created + random() * interval '5 days' END
            FROM (
              SELECT t,
                     CASE WHEN t <= {bills} THEN t ELSE t - {bills} END AS bill,
                     1 + ((CASE WHEN t <= {bills} THEN t ELSE t - {bills} END - 1) * {JOBS}) / {bills} AS job,
                     CASE WHEN t > {bills} THEN 'email' WHEN random() < 0.60 THEN 'sms'
                          WHEN random() < 0.92 THEN 'email' ELSE 'whatsapp' END AS channel,
                     {job_day.format(y=year, j=job_of_ticket)}
                       + random() * interval '48 hours'
                       + CASE WHEN t > {bills} THEN interval '3 days' ELSE interval '0' END
                       AS created
              FROM generate_series(1, {tickets}) t
            ) s""",
        f"""INSERT INTO "{schema}".messages (ticket_id, plugin, status, idempotency_key, created_at, updated_at)
            SELECT id, 'bench', 'failed', 'pre-' || id, created_at, created_at + interval '1 minute'
            FROM "{schema}".tickets WHERE id % 50 = 0""",
        f"""INSERT INTO "{schema}".messages (ticket_id, plugin, status, idempotency_key, created_at, updated_at)
            SELECT id, 'bench',
                   CASE WHEN r < 0.78 THEN 'delivered' WHEN r < 0.83 THEN 'failed' WHEN r < 0.85 THEN 'rejected'
                        WHEN r < 0.88 THEN 'timeout' WHEN r < 0.98 THEN 'sent' ELSE 'created' END,
                   'm-' || id, created_at, created_at + interval '2 minutes'
            FROM (SELECT id, created_at, random() AS r FROM "{schema}".tickets) s""",
        f"""INSERT INTO "{schema}".payments (order_id, bill_id, ticket_id, gateway, status, amount, currency,
            created_at, updated_at, completed_at)
            SELECT 'o' || id, bill_id, id, 'sandbox', CASE WHEN random() < 0.9 THEN 'completed' ELSE 'failed' END,
                   60, 'EUR', first_viewed_at + interval '1 hour', first_viewed_at + interval '1 hour',
                   first_viewed_at + interval '1 hour'
            FROM "{schema}".tickets WHERE first_viewed_at IS NOT NULL AND id <= {bills} AND random() < 0.3""",
        f"""INSERT INTO "{schema}".events (ticket_id, bill_id, kind, at, channel, data)
            SELECT id, bill_id, kind, first_viewed_at, channel, '{{}}'
            FROM "{schema}".tickets, (VALUES ('link_opened'), ('viewed')) k(kind)
            WHERE first_viewed_at IS NOT NULL""",
    ]
    for table in ("jobs", "bills", "tickets"):
        statements.append(f"""SELECT setval(pg_get_serial_sequence('"{schema}".{table}', 'id'),
                              (SELECT max(id) FROM "{schema}".{table}))""")
    for statement in statements:
        connection.execute(statement)  # type: ignore[arg-type]
    connection.commit()
    connection.autocommit = True
    connection.execute(f'VACUUM ANALYZE "{schema}".tickets, "{schema}".messages, "{schema}".bills, '  # type: ignore[arg-type]
                       f'"{schema}".payments, "{schema}".events, "{schema}".jobs')
    connection.autocommit = False


def timed(function: Callable[[], Any], runs: int) -> list[float]:
    """Wall times in milliseconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def render_page(db: Database, year: int) -> str:
    """What the "Stat. ticket" route does for the year view with the month table, rendered."""
    with db.tenant_session(SLUG) as session:
        rollup.refresh(session)
        result = stats.year_page(session, year, 1)
    labels = [str(row.first) for row in result.periods]
    names = {"sms": "SMS", "email": "EMAIL", "errors": "Errori", "viewed": "Visualizzati", "rate_viewed": "v",
             "rate_sms": "s", "rate_email": "e", "rate_paid": "p"}
    request = type("R", (), {"url": type("U", (), {"path": "/office/stats", "query": ""})()})()
    staff = type("S", (), {"username": "bench", "role": "tenant_admin"})()
    tenant = type("T", (), {"name": "Bench"})()
    return environment("it").get_template("office/stats.html").render(
        request=request, csrf_input="", staff=staff, tenant=tenant, may_act=True, expired=lambda _: False,
        result=result, years=[year], view="month", labels=labels, stats=stats, link=lambda params, **_: "",
        params={}, volume_chart=charts.volume_chart(result.periods, labels, names, "t"),
        rate_chart=charts.rate_chart(result.periods, labels, names, "t"),
    )


def search_once(db: Database, rng: random.Random, year: int) -> None:
    """One search with three filters: count and first page, as the route runs them."""
    kind = rng.randrange(3)
    if kind == 0:
        filters = ticket_search.TicketFilters(job_id=rng.randint(1, JOBS), channel=rng.choice(["sms", "email"]),
                                              status=rng.choice(["failed", "delivered", "rejected"]))
    elif kind == 1:
        first = date(year, rng.randint(1, 12), rng.randint(1, 20))
        filters = ticket_search.TicketFilters(date_from=first, date_to=first, channel="sms", viewed=True)
    else:
        filters = ticket_search.TicketFilters(customer_code=f"C{rng.randrange(900000)}", year=year, channel="sms")
    paging = Paging(page=1, size=50, sort="date", descending=True)
    now = clock.now()
    with db.tenant_session(SLUG) as session:
        ticket_search.count_tickets(session, filters, now)
        ticket_search.search_tickets(session, filters, paging, now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=2_000_000, help="tickets to load (default 2000000)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL URL allowed to create databases")
    parser.add_argument("--keep", action="store_true", help="keep the database and print its name")
    args = parser.parse_args()

    name = f"bolletta_bench_stats_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = urlsplit(args.admin_url)._replace(path=f"/{name}").geturl()
    db = Database(load_settings(environ={}, data_dir=tempfile.mkdtemp(prefix="bench-stats-"),
                                database_url=url.replace("postgresql://", "postgresql+psycopg://", 1)))
    year = clock.now().astimezone(ROME).year - 1
    try:
        migrate.upgrade_platform(db)
        create_tenant(db, SLUG, "Bench Energia")
        started = time.perf_counter()
        with psycopg.connect(url) as connection:
            load(connection, tenant_schema(SLUG), args.tickets, year)
        print(f"loaded {args.tickets} tickets of {year} in {time.perf_counter() - started:.1f} s")

        with psycopg.connect(url) as connection:
            query = f'SELECT channel, count(*) FROM "{tenant_schema(SLUG)}".tickets GROUP BY channel'
            connection.execute(query).fetchall()  # type: ignore[arg-type]  # warm the cache
            baseline = statistics.median(timed(lambda: connection.execute(query).fetchall(), 5))  # type: ignore[arg-type]
        print(f"baseline GROUP BY count over tickets: {baseline:.1f} ms")

        with db.tenant_session(SLUG) as session:
            build = timed(lambda: rollup.refresh(session, full=True), 1)[0]
        print(f"rollup built from nothing: {build / 1000:.1f} s")

        render_page(db, year)
        page = statistics.median(timed(lambda: render_page(db, year), 5))
        print(f"statistics page (refresh, year figures, month table, rendered): {page:.1f} ms")

        rng = random.Random(7)
        search_once(db, rng, year)
        searches = sorted(timed(lambda: search_once(db, rng, year), 60))
        p95 = searches[int(len(searches) * 0.95) - 1]
        print(f"ticket search with three filters: p50 {statistics.median(searches):.1f} ms, p95 {p95:.1f} ms")
        print(f"ratio {baseline / page:.2f}")
    finally:
        db.dispose()
        if args.keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(args.admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
