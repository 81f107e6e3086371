"""Scale-out benchmark: a bulk flow from SFTP to SMS with every process kind as its own OS process.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379):

    .venv/bin/python bench/scale.py --bills 20000 --readers 200

The script creates an empty PostgreSQL database and starts ``bolletta sftp serve``, ``--webs``
``bolletta serve``, ``--workers`` ``bolletta worker`` and one ``bolletta scheduler`` on it and on
a Redis namespace of its own, with a fake Skebby gateway on 127.0.0.1 (plain HTTP, no rate limit).
It uploads a FatturaPA flow of ``--bills`` bills over SFTP, approves the test batch and presses
"Avvia inoltro", while ``--readers`` concurrent customers open the first ``--links`` customer links
(each link on one web process, its summary page on the next). It prints each stage's throughput,
the exactly-once checks (bills, tickets, sends in the fake gateway's log, link openings), and the
totals each web process's ``/metrics`` reports.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
import redis

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bolletta.platform import workers  # noqa: E402
from tests.fakes.skebby import FakeSkebby  # noqa: E402
from tests.services.dispatch_support import configure  # noqa: E402
from tests.services.scale_support import (  # noqa: E402
    TENANT,
    check_once,
    create_scale_tenant,
    describe,
    run_flow,
    running_cluster,
    scrape,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bills", type=int, default=20_000, help="bills in the flow (default 20000)")
    parser.add_argument("--readers", type=int, default=200, help="concurrent readers (default 200)")
    parser.add_argument("--links", type=int, default=2_000, help="customer links the readers open (default 2000)")
    parser.add_argument("--webs", type=int, default=2, help="web processes (default 2)")
    parser.add_argument("--workers", type=int, default=3, help="worker processes (default 3)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process (default 8)")
    parser.add_argument("--admin-database-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL URL where the benchmark creates and drops its own database")
    parser.add_argument("--pool-timeout", type=float, default=None,
                        help="BOLLETTA_DATABASE_POOL_TIMEOUT for every process (default: the setting's default)")
    parser.add_argument("--read-timeout", type=float, default=60.0,
                        help="seconds a reader waits for each answer (default 60)")
    parser.add_argument("--log-dir", type=Path, default=None,
                        help="folder that keeps the processes' logs (default: a temporary folder, deleted)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                        help="Redis database for the broker; the run uses a namespace of its own and deletes it")
    args = parser.parse_args()

    name = f"bolletta_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_database_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    database_url = args.admin_database_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    database_url += f"/{name}"
    space = f"bench-scale-{uuid.uuid4().hex[:8]}"
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as temporary, FakeSkebby() as fake:
            assert isinstance(fake, FakeSkebby)
            folder = Path(temporary)
            if args.log_dir is not None:
                args.log_dir.mkdir(parents=True, exist_ok=True)
                folder = args.log_dir
            rt = configure(database_url, args.redis_url, space, folder / "data")
            print(f"bills {args.bills}, readers {args.readers} opening {args.links} links, {args.webs} web, "
                  f"{args.workers} worker x {args.threads} threads, 1 scheduler, 1 SFTP process; "
                  f"PostgreSQL + Redis; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
            workers.setup_broker(rt.settings)  # this process only relays its outbox rows to the broker
            workers.load_actors()
            create_scale_tenant(rt, fake)
            environment = {}
            if args.pool_timeout is not None:
                environment["BOLLETTA_DATABASE_POOL_TIMEOUT"] = str(args.pool_timeout)
            with running_cluster(rt, folder, webs=args.webs, workers=args.workers,
                                 worker_threads=args.threads, environment=environment) as cluster:
                result = run_flow(rt, cluster, fake, folder, bills=args.bills, readers=args.readers,
                                  links=args.links, timeout=1800, read_timeout=args.read_timeout)
                scrapes = {url: scrape(url) for url in cluster.web_urls}
                errors = cluster.errors_logged()
            check = check_once(rt, fake, result.job_id, args.bills, result.reads.opened)
            print(describe(result))
            print(f"load average at the end {os.getloadavg()[0]:.1f}")
            print(f"bills stored {check.bills}, tickets {check.tickets}, messages {check.messages}, "
                  f"sends in the gateway log {check.sends}, link openings {check.links_opened}")
            duplicates = sum(1 for count in fake.accepted.values() if count > 1)
            print(f"duplicate sends {duplicates}, reader errors {len(result.reads.errors)}, "
                  f"processes with logged errors {len(errors)}")
            for url, samples in scrapes.items():
                sent = samples.get(("bolletta_messages_sent_total", frozenset(
                    {"tenant": TENANT, "channel": "sms", "provider": "skebby"}.items())))
                parsed = samples.get(("bolletta_bills_parsed_total", frozenset({"tenant": TENANT}.items())))
                print(f"/metrics of {url}: bills parsed {parsed or 0:.0f}, SMS sent {sent or 0:.0f}")
            for problem in check.problems + result.reads.errors[:5]:
                print(f"PROBLEM {problem}")
            print("exactly once: " + ("yes" if not check.problems and not duplicates else "NO"))
    finally:
        with psycopg.connect(args.admin_database_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        client = redis.Redis.from_url(args.redis_url)
        for key in client.scan_iter(f"{space}:*"):
            client.delete(key)


if __name__ == "__main__":
    main()
