"""The ``bolletta`` command."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from bolletta.cli.customers import customer
from bolletta.cli.payments import payments
from bolletta.cli.plugins import plugins
from bolletta.cli.sftp import sftp
from bolletta.cli.startup import LONG_RUNNING_COMMANDS, log_configuration
from bolletta.cli.voices import voices
from bolletta.cli.webhooks import webhook
from bolletta.platform.errors import BollettaError
from bolletta.platform.logs import configure_logging
from bolletta.platform.settings import load_settings


def _setup_logging(verbose: bool) -> None:
    try:
        log_format = load_settings().log_format
    except BollettaError:  # the command reports the bad setting itself when it loads the settings
        log_format = "text"
    configure_logging(logging.INFO if verbose else logging.WARNING, log_format)


class BollettaGroup(click.Group):
    """Turns the platform's own errors into a clear message and exit code 1, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BollettaError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=BollettaGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log progress at info level.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Bolletta Smart: utility bills as interactive smart bills."""
    # The data folder contains customers' data (databases, archives, caught mail), so files the
    # commands create are not readable by other users of the machine.
    os.umask(0o027)
    _setup_logging(verbose or ctx.invoked_subcommand in LONG_RUNNING_COMMANDS)


@main.command()
@click.option("--once", is_flag=True, help="Run the flow to the end, print the links and exit.")
@click.option("--reset", is_flag=True, help="Delete the demo data folder first.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Data folder (default: BOLLETTA_DATA_DIR or ./data).")
@click.option("--port", type=int, default=8000, show_default=True, help="Web server port (0: any free port).")
@click.option("--sftp-port", type=int, default=2222, show_default=True, help="SFTP server port.")
@click.option("--smtp-port", type=int, default=1025, show_default=True, help="Mail catcher port.")
def demo(once: bool, reset: bool, data_dir: Path | None, port: int, sftp_port: int, smtp_port: int) -> None:
    """Run the main job end to end in one process, with nothing else installed."""
    from bolletta.platform.demo.run import format_report, run_demo

    overrides: dict[str, Any] = {
        "http_port": port, "sftp_port": sftp_port, "tenant_path_prefix": True, "cookie_secure": False,
        "database_url": "", "broker_url": "",
    }
    if data_dir is not None:
        overrides["data_dir"] = str(data_dir)
    settings = load_settings(**overrides)
    if port and settings.public_base_url == "http://127.0.0.1:8000":
        overrides["public_base_url"] = f"http://{settings.http_host}:{port}"
        overrides["platform_host"] = f"{settings.http_host}:{port}"
        settings = load_settings(**overrides)
    click.echo(f"Starting the demo in {settings.data_path} ...")
    result = run_demo(settings, reset=reset, smtp_port=smtp_port)
    click.echo(format_report(result))
    if once:
        result.stack.stop()
        click.echo("--once: the servers are stopped now; run without --once to open the links.")
        return
    click.echo("Running: open the links above. Press Ctrl-C to stop.")
    _wait_for_signal()
    result.stack.stop()


def _wait_for_signal() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()


@main.command()
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Server processes, each listening on the same port; more than 1 needs a broker.")
def serve(processes: int) -> None:
    """Serve the web app (backoffice, customer pages, callbacks) with uvicorn."""
    settings = load_settings()
    log_configuration("serve", settings)
    if processes == 1:
        _serve_process(None)
        return
    if not settings.broker_url:
        raise click.ClickException(
            f"--processes {processes} needs BOLLETTA_BROKER_URL: without a broker the task queue lives in "
            "one process's memory. Set a Redis or RabbitMQ URL, or serve with --processes 1."
        )
    from bolletta.platform import runtime
    from bolletta.platform.metrics import shared_metrics
    from bolletta.platform.portal import view_writer_process
    from bolletta.platform.web.server import PortInUse, ServerProcessesFailed, check_port_free, run_processes

    # The processes would each fail on a bad setting, an unreachable database or a taken port.
    # Checked here, the error is one line.
    _check_database(runtime.configure(settings))
    try:
        check_port_free(settings.http_host, settings.http_port)
        level = logging.getLogger().level
        with shared_metrics(settings.data_path) as process_ended, view_writer_process.running(level, process_ended):
            run_processes(_serve_process, (level,), processes, on_exit=process_ended)
    except (PortInUse, ServerProcessesFailed) as exc:
        raise click.ClickException(str(exc)) from exc


def _check_database(rt: Any) -> None:
    """Connect to the database once, or raise a ``ClickException`` that names the setting and the fix."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with rt.db.platform_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(
            f"The database of BOLLETTA_DATABASE_URL cannot be reached: {reason}. Check the URL, that the "
            "server runs and that the database exists (created, then `bolletta db upgrade`)."
        ) from exc
    finally:
        rt.db.dispose()


def _serve_process(log_level: int | None) -> None:
    """Serve the app in this process; ``log_level`` is set in a spawned server process, None in the command's own."""
    import uvicorn

    from bolletta.platform import periodic, runtime, tasks, workers
    from bolletta.platform.app import create_app, freeze_startup_objects
    from bolletta.platform.portal import view_events
    from bolletta.platform.web.server import serve_app

    settings = load_settings()
    if log_level is not None:
        os.umask(0o027)
        configure_logging(log_level, settings.log_format)
    rt = runtime.configure(settings)
    broker = workers.setup_broker(settings)
    workers.load_actors()
    # Without a broker URL the queue is in memory, so this process must also run the worker and
    # the scheduler.
    processing = tasks.start_processing(rt.db, broker, run_worker=not settings.broker_url)
    scheduler = None if settings.broker_url else periodic.schedule_loop(rt)
    if scheduler is not None:
        scheduler.start()
    app = create_app(rt)
    freeze_startup_objects()
    # log_config=None: uvicorn's loggers go through ours, so access lines get the ticket-token
    # redaction and the JSON format.
    options: dict[str, Any] = {
        "lifespan": "off", "log_config": None, "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": ",".join(settings.trusted_proxies) or None,
    }
    try:
        if log_level is None:
            uvicorn.run(app, host=settings.http_host, port=settings.http_port, **options)
        else:
            serve_app(app, settings.http_host, settings.http_port, **options)
    finally:
        if scheduler is not None:
            scheduler.stop()
        processing.stop()
        view_events.write_queued(rt)
        rt.db.close()


@main.command()
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True,
              help="Worker threads in each process.")
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes; more than 1 starts that many children and supervises them.")
@click.option("--queues", default="", metavar="NAME,...",
              help="Consume only these queues (comma-separated); default: every queue.")
def worker(threads: int, processes: int, queues: str) -> None:
    """Run Dramatiq workers for the configured broker until SIGTERM, which lets current messages finish."""
    from bolletta.platform import runtime, tasks, workers

    settings = load_settings()
    if not settings.broker_url:
        raise click.ClickException("BOLLETTA_BROKER_URL is not set: a separate worker needs Redis or RabbitMQ.")
    if processes > 1:
        sys.exit(_supervise_workers(processes, threads, queues))
    log_configuration("worker", settings)
    rt = runtime.configure(settings)
    broker = workers.setup_broker(settings)
    workers.load_actors()
    selected = {name.strip() for name in queues.split(",") if name.strip()} or None
    declared = broker.get_declared_queues()
    unknown = (selected or set()) - declared
    if unknown:
        raise click.ClickException(
            f"Unknown queue {', '.join(sorted(unknown))}; the queues are {', '.join(sorted(declared))}."
        )
    processing = tasks.start_processing(rt.db, broker, threads=threads, queues=selected)
    click.echo(f"Worker running with {threads} threads on {type(broker).__name__}"
               f" ({', '.join(sorted(selected)) if selected else 'every queue'}).")
    _wait_for_signal()
    processing.stop()
    rt.db.close()


def _supervise_workers(processes: int, threads: int, queues: str) -> int:
    """Run ``processes`` single-process workers, pass SIGTERM and SIGINT on, and return the worst exit code."""
    import subprocess

    command = [sys.executable, "-m", "bolletta", "worker", "--threads", str(threads), "--queues", queues]
    children = [subprocess.Popen(command) for _ in range(processes)]  # noqa: S603  # our own program
    forwarded: set[int] = set()

    def forward(signum: int, _frame: Any) -> None:
        forwarded.add(signum)
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    codes = [child.wait() for child in children]
    # A child still starting when the signal came dies of it before its handler exists: it held no
    # message, so that is a clean stop too.
    codes = [0 if code < 0 and -code in forwarded else code for code in codes]
    return max((abs(code) for code in codes), default=0)


@main.command()
def scheduler() -> None:
    """Queue periodic work (such as polling remote SFTP servers) until SIGTERM; two at once are safe."""
    from bolletta.platform import periodic, runtime, workers

    settings = load_settings()
    if not settings.broker_url:
        raise click.ClickException(
            "BOLLETTA_BROKER_URL is not set: a separate scheduler needs Redis or RabbitMQ shared with the "
            "workers. Without a broker, `bolletta serve` runs the scheduler itself."
        )
    log_configuration("scheduler", settings)
    rt = runtime.configure(settings)
    workers.setup_broker(settings)
    workers.load_actors()
    loop = periodic.schedule_loop(rt)
    loop.start()
    click.echo(f"Scheduler running, every {settings.scheduler_interval_seconds:g} s.")
    _wait_for_signal()
    loop.stop()
    rt.db.close()


@main.group()
def settings() -> None:
    """Show and document the environment variables every command reads."""


@settings.command("doc")
def settings_doc() -> None:
    """Print the configuration reference (docs/configuration.md) in Markdown."""
    from bolletta.platform.settings_doc import reference_markdown

    click.echo(reference_markdown(), nl=False)


@settings.command("show")
def settings_show() -> None:
    """Check the settings of this environment and print them as JSON, secrets masked."""
    import json

    from bolletta.platform.settings_doc import redacted

    click.echo(json.dumps(redacted(load_settings()), indent=2, sort_keys=True))


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the platform level and every tenant to the latest revision."""
    from bolletta.platform import runtime
    from bolletta.platform.db import migrate
    from bolletta.tenants.registry import all_tenant_slugs

    rt = runtime.configure(load_settings())
    migrate.upgrade_platform(rt.db)
    slugs = all_tenant_slugs(rt.db)
    for slug in slugs:
        migrate.upgrade_tenant(rt.db, slug)
    click.echo(f"Platform and {len(slugs)} tenants migrated.")


@main.group()
def tenant() -> None:
    """Tenant commands."""


@tenant.command("create")
@click.argument("slug")
@click.argument("name")
def tenant_create(slug: str, name: str) -> None:
    """Create tenant SLUG with legal NAME and its schema or database file."""
    from bolletta.platform import runtime
    from bolletta.platform.db import migrate
    from bolletta.tenants.registry import create_tenant

    rt = runtime.configure(load_settings())
    migrate.upgrade_platform(rt.db)
    create_tenant(rt.db, slug, name)
    click.echo(f"Tenant {slug} created.")


@tenant.command("list")
def tenant_list() -> None:
    """List tenants."""
    from bolletta.platform import runtime
    from bolletta.tenants.registry import all_tenant_slugs

    rt = runtime.configure(load_settings())
    for slug in all_tenant_slugs(rt.db):
        click.echo(slug)


@tenant.command("suspend")
@click.argument("tenant_slug")
@click.option("--by", "actor", required=True, help="Who suspends it, for the platform audit log.")
@click.option("--reason", default="", help="Why, for the platform audit log.")
def tenant_suspend(tenant_slug: str, actor: str, reason: str) -> None:
    """Suspend TENANT_SLUG: links, SFTP and sending stop; nothing is deleted."""
    from bolletta.platform import runtime
    from bolletta.platform.errors import BollettaError
    from bolletta.tenants import lifecycle

    rt = runtime.configure(load_settings())
    try:
        lifecycle.suspend(rt, tenant_slug, actor, reason)
    except BollettaError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Tenant {tenant_slug} suspended.")


@tenant.command("resume")
@click.argument("tenant_slug")
@click.option("--by", "actor", required=True, help="Who resumes it, for the platform audit log.")
def tenant_resume(tenant_slug: str, actor: str) -> None:
    """Make the suspended TENANT_SLUG active again and queue its unsent messages."""
    from bolletta.platform import runtime, workers
    from bolletta.platform.errors import BollettaError
    from bolletta.tenants import lifecycle

    settings = load_settings()
    rt = runtime.configure(settings)
    workers.setup_broker(settings)
    workers.load_actors()
    try:
        queued = lifecycle.resume(rt, tenant_slug, actor)
    except BollettaError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Tenant {tenant_slug} active again; {queued} unsent messages queued.")


@tenant.command("offboard")
@click.argument("tenant_slug")
@click.option("--export", "archive", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="New ZIP file that receives all of the tenant's data before it is deleted.")
@click.option("--by", "actor", required=True, help="Who off-boards it, for the platform audit log.")
@click.option("--yes", "confirmed", is_flag=True, help="Confirm: after the export the tenant is deleted everywhere.")
def tenant_offboard(tenant_slug: str, archive: Path, actor: str, confirmed: bool) -> None:
    """Export all of TENANT_SLUG's data to a ZIP file, then delete the tenant everywhere."""
    from bolletta.platform import runtime
    from bolletta.platform.errors import BollettaError
    from bolletta.tenants import lifecycle

    if not confirmed:
        raise click.ClickException(f"Off-boarding deletes {tenant_slug} after the export: add --yes to confirm.")
    rt = runtime.configure(load_settings())
    if not archive.parent.is_dir():
        raise click.ClickException(f"Folder {archive.parent} does not exist; create it or pick another --export.")
    try:
        report = lifecycle.offboard(rt, tenant_slug, actor, archive)
    except (BollettaError, OSError) as exc:
        raise click.ClickException(f"{exc}. Nothing was deleted unless the export finished.") from exc
    click.echo(f"Tenant {tenant_slug} exported to {report.archive} ({sum(report.rows.values())} rows, "
               f"{report.files} files) and deleted.")


@tenant.group("settings")
def tenant_settings() -> None:
    """Show or change a tenant's settings as JSON (channels, flows, SFTP polling, languages...)."""


@tenant_settings.command("show")
@click.argument("tenant_slug")
def tenant_settings_show(tenant_slug: str) -> None:
    """Print TENANT_SLUG's settings as JSON."""
    import msgspec

    from bolletta.platform import runtime
    from bolletta.tenants.registry import get_tenant, tenant_config

    rt = runtime.configure(load_settings())
    values = msgspec.to_builtins(tenant_config(get_tenant(rt.db, tenant_slug)))
    poll = values.get("sftp_poll") or {}
    for secret in ("password", "private_key"):  # printed neither decrypted nor as the encrypted token
        if poll.get(secret):
            poll[secret] = "(set)"
    click.echo(msgspec.json.format(msgspec.json.encode(values), indent=2).decode())


@tenant_settings.command("set")
@click.argument("tenant_slug")
@click.argument("changes_file", type=click.File("rb"))
@click.option("--by", "changed_by", required=True, help="Who changes them, for the platform audit log.")
def tenant_settings_set(tenant_slug: str, changes_file: Any, changed_by: str) -> None:
    """Apply the JSON object in CHANGES_FILE (or - for stdin) to TENANT_SLUG's settings; keys left out stay.

    An sftp_poll password or private_key given as "(set)", as `show` prints it, keeps the stored one.
    """
    import msgspec

    from bolletta.cli.settings_input import validation_message
    from bolletta.platform import runtime
    from bolletta.platform.errors import ConfigurationError
    from bolletta.platform.sftp import credentials
    from bolletta.tenants.config import TenantConfig
    from bolletta.tenants.registry import get_tenant, save_config, tenant_config

    rt = runtime.configure(load_settings())
    try:
        changes = msgspec.json.decode(changes_file.read())
    except msgspec.DecodeError as exc:
        raise click.ClickException(f"{changes_file.name} is not valid JSON: {exc}") from exc
    if not isinstance(changes, dict):
        raise click.ClickException(f"{changes_file.name} must hold one JSON object of settings")
    current = msgspec.to_builtins(tenant_config(get_tenant(rt.db, tenant_slug)))
    poll, stored_poll = changes.get("sftp_poll"), current.get("sftp_poll") or {}
    if isinstance(poll, dict):
        for secret in credentials.SECRET_FIELDS:
            if poll.get(secret) == "(set)":
                poll[secret] = stored_poll.get(secret, "")
    try:
        updated = msgspec.convert({**current, **changes}, TenantConfig)
    except msgspec.ValidationError as exc:
        raise click.ClickException(validation_message(exc)) from exc
    updated = credentials.sealed_config(rt, updated)
    if updated.sftp_poll is not None:
        try:
            credentials.open_login(rt, updated.sftp_poll)
        except credentials.UndecryptableSecret as exc:
            raise click.ClickException(f"{exc}. Nothing was saved.") from exc
    try:
        save_config(rt.db, tenant_slug, updated, actor=changed_by)
    except ConfigurationError as exc:
        problems = str(exc).splitlines()
        if len(problems) > 1:
            listed = "".join(f"\n  {problem}" for problem in problems)
            message = f"Invalid tenant settings:{listed}\nFix the file and run the command again."
        else:
            message = f"Invalid tenant setting: {exc} Fix the file and run the command again."
        raise click.ClickException(message) from exc
    click.echo(f"Settings of {tenant_slug} updated: {', '.join(sorted(changes))}.")


@tenant_settings.command("history")
@click.argument("tenant_slug")
@click.option("--key", default=None, help="Only the changes of this setting, such as message_texts.")
def tenant_settings_history(tenant_slug: str, key: str | None) -> None:
    """List the versions of TENANT_SLUG's settings, newest first: id, time, who, settings changed."""
    from bolletta.platform import runtime
    from bolletta.tenants.registry import settings_history

    rt = runtime.configure(load_settings())
    for entry_id, at, actor, keys in settings_history(rt.db, tenant_slug, key):
        click.echo(f"{entry_id}\t{at:%Y-%m-%d %H:%M}\t{actor}\t{', '.join(keys)}")


@tenant_settings.command("restore")
@click.argument("tenant_slug")
@click.argument("version", type=int)
@click.argument("keys", nargs=-1, required=True)
@click.option("--by", "changed_by", required=True, help="Who restores them, for the platform audit log.")
def tenant_settings_restore(tenant_slug: str, version: int, keys: tuple[str, ...], changed_by: str) -> None:
    """Set KEYS of TENANT_SLUG back to their values before settings VERSION (see `history`)."""
    from bolletta.platform import runtime
    from bolletta.platform.errors import BollettaError
    from bolletta.tenants.registry import restore_settings

    rt = runtime.configure(load_settings())
    try:
        restore_settings(rt.db, tenant_slug, version, list(keys), changed_by)
    except BollettaError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Settings of {tenant_slug} restored from before version {version}: {', '.join(keys)}.")


@main.group()
def user() -> None:
    """Staff user commands."""


@user.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["platform_admin", "tenant_admin", "tenant_operator", "tenant_viewer"]),
              required=True)
@click.option("--tenant", "tenant_slug", default=None, help="Tenant slug, for tenant roles.")
@click.option("--email", default="")
@click.password_option(help="Password (asked when not given).")
def user_create(username: str, role: str, tenant_slug: str | None, email: str, password: str) -> None:
    """Create staff user USERNAME."""
    from bolletta.platform import runtime
    from bolletta.tenants.accounts import create_user

    rt = runtime.configure(load_settings())
    create_user(rt.db, username, password, role, tenant_slug=tenant_slug, email=email)
    click.echo(f"User {username} created.")


@main.group()
def job() -> None:
    """Job commands."""


WORKER_TIMEOUT_HELP = ("With a broker: seconds to wait for the worker to parse the job; after them the command "
                       "exits with code 3 and the job goes on in the worker.")


def _flow_file(_ctx: click.Context, _param: click.Parameter, archive: Path) -> Path:
    """Reject, before any job opens, a file the API and the office upload form would reject too."""
    from bolletta.platform.jobs.inbox import FLOW_SUFFIXES

    suffixes = ", ".join(FLOW_SUFFIXES)
    if not archive.name.lower().endswith(FLOW_SUFFIXES):
        raise click.BadParameter(f"{archive.name} is not a billing flow: its name must end in one of {suffixes}. "
                                 "Give the flow exported by the billing system.")
    if archive.stat().st_size == 0:
        raise click.BadParameter(f"{archive.name} is empty (0 bytes). Give the complete flow file.")
    return archive


@job.command("import")
@click.argument("tenant_slug")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path), callback=_flow_file)
@click.option("--no-wait", is_flag=True, help="With a broker: return once the job is queued, without following it.")
@click.option("--timeout", type=click.FloatRange(min=0), default=300.0, show_default=True, help=WORKER_TIMEOUT_HELP)
def job_import(tenant_slug: str, archive: Path, no_wait: bool, timeout: float) -> None:
    """Open a job for a local ARCHIVE in TENANT_SLUG and follow it with a progress bar until parsed.

    Without BOLLETTA_BROKER_URL the command parses the job here and sends the test batch. With a broker
    a separate `bolletta worker` does it, and the command follows the job in the database. Exit code: 0
    parsed, 1 failed, 2 ARCHIVE rejected before a job opens (empty, or not .zip, .xml, .p7m or .jsonl),
    3 still being parsed at the timeout.
    """
    from bolletta.cli.importing import import_archive

    sys.exit(import_archive(tenant_slug, archive, wait=not no_wait, timeout=timeout))


@job.command("wait")
@click.argument("tenant_slug")
@click.argument("job_id", type=int)
@click.option("--timeout", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Seconds to wait for the worker to parse the job; after them the command exits with code 3.")
def job_wait(tenant_slug: str, job_id: int, timeout: float) -> None:
    """Follow job JOB_ID of TENANT_SLUG until a worker has parsed it, then print its counts and history.

    Exit code: 0 parsed, 1 failed, 3 still being parsed at the timeout.
    """
    from rich.console import Console

    from bolletta.cli.importing import follow_worker
    from bolletta.platform import runtime
    from bolletta.platform.db.models.tenant import Job
    from bolletta.tenants.registry import get_tenant

    rt = runtime.configure(load_settings())
    get_tenant(rt.db, tenant_slug)
    with rt.db.tenant_session(tenant_slug) as session:
        if session.get(Job, job_id) is None:
            raise click.ClickException(f"Job #{job_id} of tenant {tenant_slug} not found; check the id.")
    sys.exit(follow_worker(rt, tenant_slug, job_id, timeout, Console()))


@job.command("start")
@click.argument("tenant_slug")
@click.argument("job_id", type=int)
@click.option("--user", "username", required=True, help="Staff user who starts it (audited), e.g. a platform admin.")
def job_start(tenant_slug: str, job_id: int, username: str) -> None:
    """Press "Avvia inoltro" for approved job JOB_ID of TENANT_SLUG, as USERNAME."""
    from sqlalchemy import select

    from bolletta.cli.importing import wait_for_job_state
    from bolletta.cli.queue_wait import wait_for_queue
    from bolletta.platform import runtime, tasks, workers
    from bolletta.platform.db.models.platform import Tenant, User
    from bolletta.platform.jobs.approval import Staff, start_dispatch

    settings = load_settings()
    rt = runtime.configure(settings)
    broker = workers.setup_broker(settings)
    workers.load_actors()
    with rt.db.platform_session() as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        tenant = session.scalar(select(Tenant).where(Tenant.id == user.tenant_id)) if user and user.tenant_id else None
    if user is None:
        raise click.ClickException(f"User {username!r} not found or not active.")
    staff = Staff(user_id=user.id, username=user.username, role=user.role, tenant=tenant.slug if tenant else None,
                  ip="cli")
    processing = tasks.start_processing(rt.db, broker) if not settings.broker_url else None
    start_dispatch(rt, tenant_slug, job_id, staff)
    if processing is None:
        click.echo(f"Dispatch of job #{job_id} started; the workers send the messages.")
        return
    # With the in-memory broker the messages go out from this process, so wait for them.
    try:
        state = wait_for_job_state(rt, tenant_slug, job_id, {"dispatched"})
        wait_for_queue(rt, broker)
    finally:
        processing.stop()
    click.echo(f"Job #{job_id}: {state}.")


@main.group()
def schema() -> None:
    """Published schemas."""


@schema.command("flow")
def schema_flow() -> None:
    """Print the JSON Schema of one record of the Bolletta Smart JSON Lines flow (bolletta-smart/1)."""
    import json

    from bolletta.platform.ingest.flow_schema import flow_json_schema

    click.echo(json.dumps(flow_json_schema(), indent=2, ensure_ascii=False))


@main.group()
def flow() -> None:
    """Billing flow commands that store nothing."""


@flow.command("inspect")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", "language", type=click.Choice(["en", "it"]), default="en", show_default=True,
              help="Language of the warnings and problem reasons.")
@click.option("--series-pattern", default=None,
              help="Regular expression with a 'series' group that takes the series out of FatturaPA numbers.")
@click.option("--customer-code-source", default="fiscal_code", show_default=True,
              help="Where FatturaPA bills take the customer code: fiscal_code, altri_dati:<TipoDato> or "
                   "id_documento_contratto.")
def flow_inspect(path: Path, language: str, series_pattern: str | None, customer_code_source: str) -> None:
    """Read the archive or flow file at PATH as a job would, without storing anything.

    Prints one JSON line per bill, one per problem, then a summary line. The exit code is 0 when
    nothing was rejected and 1 otherwise.
    """
    import msgspec

    from bolletta.platform.ingest.archive import ArchiveLimits
    from bolletta.platform.ingest.inspect import inspect_flow

    try:
        inspection = inspect_flow(
            path, path.name, language=language, limits=ArchiveLimits.from_settings(load_settings()),
            series_pattern=series_pattern, customer_code_source=customer_code_source,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    for line in inspection.lines:
        click.echo(msgspec.json.encode(line).decode())
    if inspection.rejected:
        click.get_current_context().exit(1)


@main.group()
def token() -> None:
    """API token commands: a tenant's systems call the API with these."""


@token.command("create")
@click.argument("tenant_slug")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="Scope to grant, repeatable: jobs:write, jobs:read, tickets:read, bills:read, stats:read, "
                   "contacts:write, contacts:read.")
def token_create(tenant_slug: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create an API token NAME for TENANT_SLUG and print it; it is not stored and cannot be shown again."""
    from bolletta.platform import runtime
    from bolletta.platform.api.tokens import create_token

    rt = runtime.configure(load_settings())
    issued = create_token(rt.db, tenant_slug, name, scopes, created_by="cli")
    click.echo(f"API token #{issued.id} ({issued.name}) for {issued.tenant}, scopes {' '.join(issued.scopes)}.")
    click.echo("Copy it now: it is stored only as a hash and cannot be shown again.")
    click.echo(issued.token)


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke API token TOKEN_ID; calls with it fail from now on."""
    from bolletta.platform import runtime
    from bolletta.platform.api.tokens import revoke_token

    rt = runtime.configure(load_settings())
    revoked = revoke_token(rt.db, token_id, revoked_by="cli")
    click.echo(f"API token #{revoked.id} ({revoked.name}) revoked.")


@token.command("list")
@click.argument("tenant_slug")
def token_list(tenant_slug: str) -> None:
    """List the API tokens of TENANT_SLUG with scopes, last use and revocation (never the token)."""
    from bolletta.platform import runtime
    from bolletta.platform.api.tokens import list_tokens

    rt = runtime.configure(load_settings())
    rows = list_tokens(rt.db, tenant_slug)
    if not rows:
        click.echo(f"No API tokens for {tenant_slug}.")
    for row in rows:
        last_used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "never"
        state = f"revoked {row.revoked_at.isoformat(timespec='seconds')}" if row.revoked_at else "active"
        click.echo(f"#{row.id}\t{row.name}\t{row.hint}…\t{','.join(row.scopes)}\tlast used {last_used}\t{state}")


main.add_command(sftp)
main.add_command(customer)
main.add_command(payments)
main.add_command(webhook)
main.add_command(voices)
main.add_command(plugins)


def run() -> None:
    """Entry point for ``python -m bolletta``."""
    main(prog_name="bolletta")


if __name__ == "__main__":
    run()
