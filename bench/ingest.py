"""Benchmark of the ingestion job against raw lxml parsing of the same FatturaPA files.

Run from the repository root:

    .venv/bin/python bench/ingest.py --bills 10000
    .venv/bin/python bench/ingest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The script writes an archive of ``--bills`` single-bill FatturaPA files (copies of the demo flow's
files with new document numbers), a contacts CSV for their customers, and one PDF of ``--pdf-kb``
KiB for every ``--pdf-every``-th bill. It then measures, each in its own child process so that
peak RSS belongs to that step alone:

- the baseline: inflating every XML entry and parsing it with ``lxml.etree.fromstring``;
- the full job: ``parse_job`` (unpack, parse, validate, store, PDFs to storage) and then
  ``create_tickets`` on the same job, with the task outbox rows left unsent (the relay to the
  broker is not part of the measured work).

The last output line is ``ratio <full job rate / raw parse rate>``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

SLUG = "bench"
ISSUE_DATE = date(2026, 11, 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bills", type=int, default=100_000, help="number of bills in the archive (default 100000)")
    parser.add_argument("--pdf-every", type=int, default=10,
                        help="add a PDF for one bill in this many (default 10; 0 for none)")
    parser.add_argument("--pdf-kb", type=int, default=120, help="size of each PDF in KiB (default 120)")
    parser.add_argument("--database-url", default="",
                        help="SQLAlchemy URL of an empty database to use (default: SQLite files in a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    parser.add_argument("--reader", choices=["auto", "job", "second"], default="auto",
                        help="where the archive is read: as the job decides with the size threshold set to 0 "
                             "(auto, the default), always in the job's process (job), or always in a second "
                             "process whatever the load (second)")
    parser.add_argument("--child", choices=["baseline", "job"], help=argparse.SUPPRESS)
    parser.add_argument("--archive", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "baseline":
        print(json.dumps(_measure_baseline(args.archive)))
        return
    if args.child == "job":
        print(json.dumps(_measure_job(args.archive, args.data_dir, args.database_url, reader=args.reader)))
        return

    workdir = Path(tempfile.mkdtemp(prefix="bolletta-bench-"))
    try:
        _run(args, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, workdir: Path) -> None:
    archive = workdir / "flow.zip"
    started = time.perf_counter()
    size = _write_archive(archive, args.bills, args.pdf_every, args.pdf_kb)
    print(f"machine: {_machine()}")
    print(f"archive: {args.bills} bills, {size / 2**20:.1f} MiB, written in {time.perf_counter() - started:.1f} s")

    baseline = _child(["--child", "baseline", "--archive", str(archive)])
    print(f"raw lxml parse: {baseline['bills']} bills in {baseline['seconds']:.2f} s, "
          f"{baseline['rate']:.0f} bills/s, peak RSS {baseline['peak_rss_mb']:.0f} MB")

    job = _child(["--child", "job", "--archive", str(archive), "--data-dir", str(workdir / "data"),
                  "--database-url", args.database_url, "--reader", args.reader])
    database = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    print(f"full job ({database}): {job['bills']} bills stored, {job['tickets']} tickets issued")
    print(f"  parse_job {job['parse_seconds']:.2f} s, create_tickets {job['tickets_seconds']:.2f} s")
    # CPU time of the job's own process, without the reader process and PostgreSQL: steadier than the
    # elapsed times when other work shares the CPUs.
    print(f"  CPU time of the job process: parse_job {job['parse_cpu_seconds']:.2f} s, "
          f"create_tickets {job['tickets_cpu_seconds']:.2f} s")
    print(f"  {job['rate']:.0f} bills/s, peak RSS {job['peak_rss_mb']:.0f} MB")
    if job["reader_cpu_seconds"] is None:
        print("  archive read in the job process")
    else:
        print(f"  archive read in a second process: CPU time {job['reader_cpu_seconds']:.2f} s, "
              f"peak RSS {job['reader_peak_rss_mb']:.0f} MB (the job's peak until then: "
              f"{job['job_peak_rss_mb_while_reading']:.0f} MB)")
    if job["bills"] != args.bills:
        print(f"error: the job stored {job['bills']} bills instead of {args.bills}. {job['archive_error']}",
              file=sys.stderr)
        sys.exit(1)
    print(f"ratio {job['rate'] / baseline['rate']:.2f}")


def _child(arguments: list[str]) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, *arguments], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def _machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} CPUs, {memory_gb:.0f} GiB RAM, Python {platform.python_version()}"


def _write_archive(path: Path, bills: int, pdf_every: int, pdf_kb: int) -> int:
    """Write the benchmark archive to ``path`` and return its size in bytes."""
    from bolletta.platform.demo.bulk_flow import write_bulk_flow

    write_bulk_flow(path, bills, pdf_every=pdf_every, pdf_bytes=pdf_kb * 1024, issue_date=ISSUE_DATE)
    return path.stat().st_size


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _measure_baseline(archive: Path) -> dict[str, Any]:
    from lxml import etree

    started = time.perf_counter()
    bills = 0
    with zipfile.ZipFile(archive) as source:
        for info in source.infolist():
            if info.filename.endswith(".xml"):
                etree.fromstring(source.read(info))
                bills += 1
    seconds = time.perf_counter() - started
    return {"bills": bills, "seconds": seconds, "rate": bills / seconds, "peak_rss_mb": _peak_rss_mb()}


def _measure_job(archive: Path, data_dir: Path, database_url: str, *, reader: str) -> dict[str, Any]:
    from sqlalchemy import func, select, update

    from bolletta.platform import clock, runtime, tasks
    from bolletta.platform.db.migrate import upgrade_platform
    from bolletta.platform.db.models.tenant import Bill, Job, Ticket
    from bolletta.platform.dispatch.starting import create_tickets
    from bolletta.platform.i18n.message import render
    from bolletta.platform.jobs import parsing, states
    from bolletta.platform.jobs.parsing import parse_job
    from bolletta.platform.settings import load_settings
    from bolletta.tenants.config import TenantConfig
    from bolletta.tenants.registry import create_tenant

    settings = load_settings({}, data_dir=str(data_dir), database_url=database_url,
                             flow_reader_process_min_bytes=-1 if reader == "job" else 0)
    if reader == "second":
        parsing._reads_in_process = lambda rt, archive: True  # type: ignore[assignment]  # whatever the load
    rt = runtime.configure(settings, create_secret=True)
    upgrade_platform(rt.db)
    config = TenantConfig(
        notification_emails=[], channel_plugins={"email": "outbox", "sms": "outbox", "whatsapp": "outbox"},
        may_start_dispatch=True,
    )
    create_tenant(rt.db, SLUG, "Bench Energia S.p.A.", config)
    tasks.relay = lambda db, tenant: 0  # type: ignore[assignment]  # outbox rows stay unsent

    # The job as opening leaves it, without reading the archive into memory.
    digest = hashlib.sha256()
    with archive.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    key = f"{SLUG}/archives/{digest.hexdigest()}/flow.zip"
    rt.storage.path(key).parent.mkdir(parents=True)
    shutil.copyfile(archive, rt.storage.path(key))
    now = clock.now()
    with rt.db.tenant_session(SLUG) as session:
        job = Job(state=states.RECEIVED, filename="flow.zip", source="bench", archive_sha256=digest.hexdigest(),
                  archive_key=key, archive_size=archive.stat().st_size, opened_by="bench", created_at=now,
                  updated_at=now, report={})
        session.add(job)
        session.commit()
        job_id = job.id

    reader_usage: dict[str, float] = {}

    class ReaderUsage(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            reader_usage.update(getattr(record, "reader_usage", {}))
            reader_usage["job_peak_rss_mb"] = _peak_rss_mb()  # the job's peak while the reader ran

    reader_logger = logging.getLogger("bolletta.platform.ingest.reader_process")
    reader_logger.addHandler(ReaderUsage())
    reader_logger.setLevel(logging.INFO)
    started, cpu_started = time.perf_counter(), time.process_time()
    parse_job(rt, SLUG, job_id)
    parse_seconds, parse_cpu = time.perf_counter() - started, time.process_time() - cpu_started

    with rt.db.tenant_session(SLUG) as session:
        session.execute(update(Job).where(Job.id == job_id).values(state=states.DISPATCHING))
        session.commit()
    started, cpu_started = time.perf_counter(), time.process_time()
    create_tickets(rt, SLUG, job_id)
    tickets_seconds, tickets_cpu = time.perf_counter() - started, time.process_time() - cpu_started

    with rt.db.tenant_session(SLUG) as session:
        bills = session.scalar(select(func.count(Bill.id)).where(Bill.job_id == job_id)) or 0
        tickets = session.scalar(select(func.count(Ticket.id)).where(Ticket.job_id == job_id)) or 0
        archive_error = (session.get_one(Job, job_id).report or {}).get("archive_error")
    seconds = parse_seconds + tickets_seconds
    return {"bills": bills, "tickets": tickets, "parse_seconds": parse_seconds, "tickets_seconds": tickets_seconds,
            "parse_cpu_seconds": parse_cpu, "tickets_cpu_seconds": tickets_cpu,
            "reader_cpu_seconds": reader_usage.get("cpu_seconds"),
            "reader_peak_rss_mb": reader_usage.get("peak_rss_mb"),
            "job_peak_rss_mb_while_reading": reader_usage.get("job_peak_rss_mb"),
            "rate": bills / seconds, "peak_rss_mb": _peak_rss_mb(),
            "archive_error": render(archive_error, "en") if archive_error else ""}


if __name__ == "__main__":
    main()
