"""Benchmark of a dispatch through the full path against a bare loop posting the same requests.

Run from the repository root (PostgreSQL on 127.0.0.1:5432 and ``redis-server`` installed):

    .venv/bin/python bench/dispatch.py --messages 20000

The script starts a fake Skebby gateway on 127.0.0.1 (no rate limit) and its own ``redis-server``
on a free loopback port, creates an empty PostgreSQL database, and measures:

- the baseline: one loop posting the same ``POST sms`` requests with a pooled ``httpx.Client``;
- the full path: "Avvia inoltro" on a job of ``--messages`` bills, then ticket issuing, the task
  outbox, the Redis broker, ``--workers`` worker processes, the channel plugin and the status
  update, until the job is ``dispatched``.

It prints both rates, their ratio, and the 99th percentile of the time from "Avvia inoltro" to each
message's send. The last output line is ``ratio <full path rate / baseline rate>``.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import select

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bolletta.platform import clock, workers  # noqa: E402
from bolletta.platform.db.models.tenant import Job, Message, Ticket  # noqa: E402
from tests.fakes.skebby import FakeSkebby  # noqa: E402
from tests.integration.dispatch.support import Customer, make_job, phone, start  # noqa: E402
from tests.services.dispatch_support import (  # noqa: E402
    PrivateRedis,
    WorkerProcess,
    configure,
    new_tenant,
)


def baseline(fake: FakeSkebby, count: int) -> float:
    """Post ``count`` sends in one loop with a pooled client; return messages per second."""
    body = {"message_type": "GP", "message": "ACME Energia: la bolletta luce n. 2026/1 e' pronta. "
            "https://b.example/c/bench/t/AbCdEfGhIjKlMnOpQrStUv", "sender": "ACMEnergia", "returnCredits": False,
            "encoding": "gsm"}
    headers = {"user_key": fake.user_key, "Access_token": fake.access_token}
    with httpx.Client(base_url=fake.api_url + "/", timeout=10) as client:
        started = time.perf_counter()
        for number in range(count):
            response = client.post("sms", json=body | {"recipient": [phone(number)], "order_id": f"base-{number}"},
                                   headers=headers)
            response.raise_for_status()
        return count / (time.perf_counter() - started)


def full_path(fake: FakeSkebby, count: int, worker_count: int, threads: int, database_url: str,
              folder: Path) -> tuple[float, float]:
    """Dispatch ``count`` messages through the platform; return messages per second and the p99 in seconds."""
    redis_server = PrivateRedis(folder / "redis")
    redis_server.folder.mkdir()
    redis_server.start()
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    processes: list[WorkerProcess] = []
    try:
        rt = configure(database_url, redis_server.url, namespace, folder / "data")
        workers.setup_broker(rt.settings)  # this process only relays the outbox to the broker
        workers.load_actors()
        with contextlib.nullcontext():
            tenant = new_tenant(rt, "bench", channel_plugins={"sms": "skebby", "email": "outbox",
                                                              "whatsapp": "outbox"},
                                enabled_channels=["skebby", "outbox"], channel_settings={"skebby": fake.settings()})
            job_id = make_job(rt, tenant, [Customer(contacts=[("sms", phone(n))]) for n in range(count)])
            processes = [WorkerProcess(rt, folder / f"worker{n}.log", threads=threads) for n in range(worker_count)]
            time.sleep(3)  # let the workers connect before the clock starts
            started = time.perf_counter()
            start(rt, tenant, job_id)
            while True:
                with rt.db.tenant_session(tenant) as session:
                    job = session.get_one(Job, job_id)
                    if job.state == "dispatched":
                        break
                time.sleep(0.25)
            elapsed = time.perf_counter() - started
            with rt.db.tenant_session(tenant) as session:
                started_at = clock.as_utc(session.get_one(Job, job_id).started_at)  # type: ignore[arg-type]
                delays = sorted(
                    (clock.as_utc(sent_at) - started_at).total_seconds()
                    for sent_at in session.scalars(
                        select(Message.sent_at).join(Ticket, Ticket.id == Message.ticket_id)
                        .where(Ticket.job_id == job_id, Message.sent_at.is_not(None))
                    )
                )
        p99 = statistics.quantiles(delays, n=100)[98] if len(delays) >= 2 else (delays[0] if delays else 0.0)
        return count / elapsed, p99
    finally:
        for process in processes:
            process.stop()
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="messages to send (default 20000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker process (default 2)")
    parser.add_argument("--admin-database-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL URL where the benchmark creates and drops its own database")
    args = parser.parse_args()

    name = f"bolletta_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_database_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    database_url = args.admin_database_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    database_url += f"/{name}"
    try:
        with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as temporary, FakeSkebby() as fake:
            assert isinstance(fake, FakeSkebby)
            print(f"messages {args.messages}, workers {args.workers} x {args.threads} threads, "
                  "PostgreSQL + Redis, fake Skebby over HTTP on 127.0.0.1", flush=True)
            base_rate = baseline(fake, args.messages)
            print(f"baseline {base_rate:.0f} messages/s (one loop, pooled httpx client)", flush=True)
            full_rate, p99 = full_path(fake, args.messages, args.workers, args.threads, database_url, Path(temporary))
            duplicates = sum(1 for key, n in fake.accepted.items() if n > 1 and not key.startswith("base-"))
            print(f"full path {full_rate:.0f} messages/s (outbox, broker, workers, plugin, status update)")
            print(f"p99 from approval to send {p99:.2f} s")
            print(f"duplicate sends {duplicates}")
            print(f"ratio {full_rate / base_rate:.2f}")
    finally:
        with psycopg.connect(args.admin_database_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
