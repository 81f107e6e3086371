"""Benchmark of the customer summary page against a bare Litestar page of the same size.

Run from the repository root, with PostgreSQL on 127.0.0.1:5432:

    .venv/bin/python bench/portal.py
    .venv/bin/python bench/portal.py --bills 10000 --sessions 300 --seconds 15 --connections 32

The script creates a new database, provisions a tenant with ``--bills`` bills (copies of a JSON
Lines record with every smart-bill field, stored as the parser stores them) and a ticket for
``--sessions`` random ones, renders those bills' summary pages into the tenant's storage with the
function of the ``render_bill_pages`` actor (as dispatch defers it when it issues tickets), and
starts the app as in production: uvicorn in 2 processes (``bolletta serve --processes 2``) on
PostgreSQL. Each ticket link is opened once to get its session cookie, and each
session then keeps the cookies the server sends, as a browser does. A baseline app (a minimal
Litestar page rendering a template as large as the real page, with no database) runs the same way.
A load generator on loopback (asyncio, HTTP/1.1 keep-alive, ``--connections`` connections) then
measures, one after the other for ``--seconds`` each: the baseline, and the real summary page
requested with a random session each time. It prints requests per second and p50/p99 latency of
both, and the CPU time each request cost the server processes (and, for the real page, the
PostgreSQL backends of the benchmark's database), which varies less than the rates when other work
shares the CPUs; the last line is ``ratio <real page rps / baseline rps>``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
SLUG = "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bills", type=int, default=10_000, help="bills in the tenant (default 10000)")
    parser.add_argument("--sessions", type=int, default=300, help="customer sessions to draw from (default 300)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measurement time per page (default 15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured load before each page (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="libpq URL of a database where the script may CREATE and DROP its own database")
    args = parser.parse_args()

    database = f"bolletta_bench_portal_{secrets.token_hex(4)}"
    _admin(args.admin_url, f'CREATE DATABASE "{database}"')
    try:
        with tempfile.TemporaryDirectory(prefix="bench-portal-") as folder:
            _run(args, database, Path(folder))
    finally:
        _admin(args.admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def _run(args: argparse.Namespace, database: str, folder: Path) -> None:
    admin = urlsplit(args.admin_url)
    environment = {
        **os.environ,
        "BOLLETTA_DATABASE_URL": f"postgresql+psycopg://{admin.netloc}/{database}",
        "BOLLETTA_DATA_DIR": str(folder),
        "BOLLETTA_SECRET_KEY": secrets.token_urlsafe(48),
        "BOLLETTA_TENANT_PATH_PREFIX": "true",
        "BOLLETTA_COOKIE_SECURE": "false",
        "BOLLETTA_BROKER_URL": "",
    }
    os.environ.update(environment)
    started = time.perf_counter()
    tokens = _provision(args.bills, args.sessions)
    print(f"provisioned {args.bills} bills and {len(tokens)} tickets in {time.perf_counter() - started:.1f} s")

    real_port, baseline_port = _free_port(), _free_port()
    servers = [_serve("real", real_port, environment), _serve("baseline", baseline_port, environment)]
    try:
        cookies = asyncio.run(_open_sessions(real_port, tokens))
        paths = [path for path, _cookie in cookies]
        page_bytes = asyncio.run(_page_size(real_port, cookies[0]))
        servers[1].terminate()
        servers[1].wait()
        environment["BENCH_PAGE_BYTES"] = str(page_bytes)
        servers[1] = _serve("baseline", baseline_port, environment)
        print(f"summary page: {page_bytes} bytes; sessions: {len(cookies)} over {len(set(paths))} bills")

        baseline = asyncio.run(_load(baseline_port, [("/page", "")], args, _children_of(servers[1].pid)))
        real = asyncio.run(_load(real_port, cookies, args,
                                 lambda: _children_of(servers[0].pid)() + _database_backends(database)()))
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)
        for server in servers:
            try:
                server.wait(timeout=45)
            except subprocess.TimeoutExpired:
                server.kill()

    for name, result in (("baseline (bare Litestar page, no database)", baseline), ("summary page", real)):
        print(f"{name}: {result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms, "
              f"{result['errors']} errors, {result['requests']} requests, "
              f"{result['cpu_ms']:.2f} ms of CPU per request")
    print(f"ratio {real['rps'] / baseline['rps']:.2f}")


def _provision(bills: int, sessions: int) -> list[str]:
    """Create the tenant, ``bills`` bills and one ticket for each of ``sessions`` random bills, store the
    ticketed bills' summary pages as dispatch has a worker do, and return the tokens."""
    from sqlalchemy import select

    from bolletta.platform import clock, runtime
    from bolletta.platform.db.bulk import insert_rows
    from bolletta.platform.db.migrate import upgrade_platform
    from bolletta.platform.db.models.tenant import Bill, CostLine, Instalment, Job, Ticket
    from bolletta.platform.settings import load_settings
    from bolletta.platform.tickets.tokens import new_token, token_hash
    from bolletta.platform.tokens import random_base62
    from bolletta.tenants.config import TenantConfig
    from bolletta.tenants.registry import create_tenant
    from tests.unit.portal.bills import parsed_jsonl, rich_record

    rt = runtime.configure(load_settings())
    upgrade_platform(rt.db)
    create_tenant(rt.db, SLUG, "Bench Energia S.p.A.", TenantConfig(vat_number="07182930151"))
    parsed = parsed_jsonl(rich_record())
    now = clock.now()
    with rt.db.tenant_session(SLUG) as session:
        job = Job(state="dispatched", filename="bench.jsonl", source="bench", archive_sha256="0" * 64,
                  archive_key="bench", archive_size=0, opened_by="bench", created_at=now, updated_at=now, report={})
        session.add(job)
        session.flush()
        rows = [{
            "public_id": random_base62(22), "job_id": job.id, "source_file": "bench.jsonl", "body_index": index,
            "document_number": f"2025/E/{index:06d}", "series": "E", "year": 2025, "document_type": "TD01",
            "issue_date": parsed.issue_date, "due_date": parsed.due_date, "currency": "EUR", "total": parsed.total,
            "amount_due": parsed.amount_due, "payment_method": parsed.payment_method, "direct_debit": False,
            "payable_online": True, "service": parsed.service, "seller_name": "Bench Energia S.p.A.",
            "customer_code": f"C{index:06d}", "customer_name": f"Cliente {index}", "fiscal_code": parsed.fiscal_code,
            "vat_number": None, "customer_address": parsed.customer_address, "pod": parsed.pod, "pdr": None,
            "supply_address": parsed.supply_address, "period_from": parsed.period_from,
            "period_to": parsed.period_to, "consumption": parsed.consumption,
            "consumption_unit": parsed.consumption_unit, "language": None, "warnings": [],
            "details": parsed.details, "pdf_key": None, "paid_at": None, "created_at": now,
        } for index in range(1, bills + 1)]
        insert_rows(session, Bill, rows)
        ids = list(session.scalars(select(Bill.id).order_by(Bill.id)))
        # Each bill gets its own pagoPA notice code, so no bill reuses another one's QR code.
        insert_rows(session, Instalment, [
            {"bill_id": bill_id, "position": 1, "amount": parsed.amount_due, "due_date": parsed.due_date,
             "method": "MP23", "notice_code": f"30100{bill_id:013d}", "paid_at": None} for bill_id in ids])
        insert_rows(session, CostLine, [
            {"bill_id": bill_id, "position": position, "category": cost.category, "label": cost.label,
             "amount": cost.amount, "quantity": cost.quantity, "unit": cost.unit, "unit_price": cost.unit_price}
            for bill_id in ids for position, cost in enumerate(parsed.costs, start=1)])
        tokens = []
        ticketed = sorted(random.sample(ids, min(sessions, len(ids))))
        random.shuffle(ticketed)
        for position, bill_id in enumerate(ticketed):
            token = new_token()
            tokens.append(token)
            session.add(Ticket(token_hash=token_hash(rt.ticket_key, token), bill_id=bill_id, job_id=job.id,
                               channel="email", address=f"cliente{position}@example.org", created_at=now,
                               expires_at=now + timedelta(days=15)))
        session.commit()
    # As dispatch does when it issues tickets: the worker's ``render_bill_pages`` stores each bill's
    # summary page, in batches of 50 bills, before the links go out.
    from bolletta.platform.portal.prerender import render_bill_pages

    for start in range(0, len(ticketed), 50):
        render_bill_pages(rt, SLUG, ticketed[start:start + 50])
    return tokens


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(kind: str, port: int, environment: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", f"from bench.portal_apps import serve; serve({kind!r}, {port}, 2)"]
    server = subprocess.Popen(command, cwd=REPO_ROOT, env=environment)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(1.0)  # both workers importing the app
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"the {kind} app did not start on port {port}")


def _children_of(parent: int) -> Callable[[], list[int]]:
    """Return a function listing the processes whose parent is ``parent`` (the server's processes)."""
    def children() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and _stat_fields(int(entry))[1:2] == [str(parent)]:
                found.append(int(entry))
        return found
    return children


def _database_backends(database: str) -> Callable[[], list[int]]:
    """Return a function listing the PostgreSQL backends connected to ``database`` on this machine."""
    def backends() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"postgres: ") and f" {database} ".encode() in command:
                found.append(int(entry))
        return found
    return backends


def _stat_fields(pid: int) -> list[str]:
    """Fields of ``/proc/PID/stat`` after the command name (state, ppid, ...), or [] if it ended."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    times = {}
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:
            times[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return times


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int, path: str,
                   cookie: str) -> tuple[int, dict[str, str], bytes]:
    headers = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Language: it\r\n"
    if cookie:
        headers += f"Cookie: {cookie}\r\n"
    writer.write((headers + "\r\n").encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    fields: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            fields.setdefault(name.strip().lower(), value.strip())
            if name.strip().lower() == "set-cookie":
                fields[f"set-cookie:{value.split('=', 1)[0].strip()}"] = value.strip()
    body = await reader.readexactly(int(fields.get("content-length", "0")))
    return status, fields, body


async def _open_sessions(port: int, tokens: list[str]) -> list[tuple[str, str]]:
    """Open each ticket link once; return each session's summary path and cookie."""
    sessions = []
    for token in tokens:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        status, fields, _body = await _request(reader, writer, port, f"/c/{SLUG}/t/{token}", "")
        writer.close()
        if status != 303:
            raise RuntimeError(f"opening a ticket link answered {status}")
        cookie = "; ".join(value.split(";", 1)[0] for name, value in fields.items() if name.startswith("set-cookie:"))
        sessions.append((urlsplit(fields["location"]).path, cookie))
    return sessions


async def _page_size(port: int, session: tuple[str, str]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    status, _fields, body = await _request(reader, writer, port, *session)
    writer.close()
    if status != 200:
        raise RuntimeError(f"the summary page answered {status}")
    return len(body)


def _cookie_pairs(cookie: str) -> list[tuple[str, str]]:
    pairs = [part.strip().split("=", 1) for part in cookie.split(";") if "=" in part]
    return [(name, value) for name, value in pairs]


async def _load(port: int, targets: list[tuple[str, str]], args: argparse.Namespace,
                processes: Callable[[], list[int]]) -> dict[str, Any]:
    """Keep ``--connections`` connections busy; measure after ``--warmup`` seconds for ``--seconds``.

    ``processes`` lists the processes whose CPU time over the measured seconds is charged to the
    requests (a process that starts or ends within them counts for the part it was seen in).
    """
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + args.warmup
    stop_at = measure_from + args.seconds

    # Each session keeps the cookies the server sends, as a browser would, so a page that changes the
    # session or sets the CSRF cookie does so once, not on every request.
    jars = [dict(_cookie_pairs(cookie)) for _path, cookie in targets]

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (now := time.perf_counter()) < stop_at:
            index = random.randrange(len(targets))
            path, jar = targets[index][0], jars[index]
            cookie = "; ".join(f"{name}={value}" for name, value in jar.items())
            status, fields, _body = await _request(reader, writer, port, path, cookie)
            for name, value in fields.items():
                if name.startswith("set-cookie:"):
                    jar[name.removeprefix("set-cookie:")] = value.split(";", 1)[0].split("=", 1)[1]
            done = time.perf_counter()
            if now >= measure_from:
                latencies.append(done - now)
                errors += status != 200
        writer.close()

    async def cpu_time() -> float:
        await asyncio.sleep(max(measure_from - time.perf_counter(), 0))
        first = _cpu_seconds(processes())
        await asyncio.sleep(max(stop_at - time.perf_counter(), 0))
        last = _cpu_seconds(processes())
        return sum(seconds - first.get(pid, seconds) for pid, seconds in last.items())

    measuring = asyncio.create_task(cpu_time())
    await asyncio.gather(*(worker() for _ in range(args.connections)))
    cpu = await measuring
    ordered = sorted(latencies)
    return {"requests": len(ordered), "rps": len(ordered) / args.seconds, "errors": errors,
            "p50": statistics.median(ordered) * 1000, "p99": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "cpu_ms": cpu * 1000 / max(len(ordered), 1)}


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    main()
