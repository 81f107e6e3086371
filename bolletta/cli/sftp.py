"""The ``bolletta sftp`` commands: the inbox server, SSH keys of SFTP accounts, polling remote servers."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import IO

import click

from bolletta.cli.startup import log_configuration
from bolletta.platform.settings import load_settings


@click.group()
def sftp() -> None:
    """SFTP inbox commands."""


@sftp.command("serve")
@click.option("--host", default=None, help="Address to bind (default: BOLLETTA_SFTP_HOST).")
@click.option("--port", type=int, default=None, help="TCP port to bind (default: BOLLETTA_SFTP_PORT).")
@click.option("--max-failed-logins", type=click.IntRange(min=1), default=5, show_default=True,
              help="Failed password logins per account and per source address before further attempts are "
                   "rejected.")
@click.option("--failure-window", type=click.IntRange(min=1), default=15, show_default=True,
              help="Minutes over which failed logins count, and for which a lock-out lasts.")
@click.option("--idle-timeout", type=click.FloatRange(min=1), default=600, show_default=True,
              help="Seconds a logged-in session may stay without SFTP requests before it is closed.")
def sftp_serve(host: str | None, port: int | None, max_failed_logins: int, failure_window: int,
               idle_timeout: float) -> None:
    """Run the SFTP inbox server alone; uploads open jobs. Stops on SIGINT or SIGTERM."""
    from bolletta.platform import runtime, tasks, workers
    from bolletta.platform.sftp.embedded import build_sftp_server
    from bolletta.platform.sftp.throttle import ThrottleSettings

    settings = load_settings()
    log_configuration("sftp serve", settings)
    rt = runtime.configure(settings)
    broker = workers.setup_broker(settings)
    workers.load_actors()
    # Without a broker URL the queue is in memory, so this process must also run the worker.
    processing = tasks.start_processing(rt.db, broker, run_worker=not settings.broker_url)
    server = build_sftp_server(
        rt, host=host or settings.sftp_host, port=settings.sftp_port if port is None else port,
        throttle=ThrottleSettings(max_failures=max_failed_logins, window=timedelta(minutes=failure_window)),
        idle_timeout=idle_timeout,
    )
    server.start()
    click.echo(f"SFTP server listening on {host or settings.sftp_host}:{server.port}. Press Ctrl-C to stop.")
    try:
        _wait_for_signal()
    finally:
        server.stop()
        processing.stop()


@sftp.group("account")
def sftp_account() -> None:
    """SFTP accounts: each uploads into one tenant's inbox."""


@sftp_account.command("create")
@click.argument("tenant_slug")
@click.argument("username")
@click.password_option(help="Password (asked when not given); an account may also log in with keys only.")
def sftp_account_create(tenant_slug: str, username: str, password: str) -> None:
    """Create SFTP account USERNAME for TENANT_SLUG; add SSH keys with `bolletta sftp key add`."""
    from bolletta.platform import runtime
    from bolletta.tenants.accounts import create_sftp_account

    rt = runtime.configure(load_settings())
    create_sftp_account(rt.db, tenant_slug, username, password)
    click.echo(f"SFTP account {username} created for tenant {tenant_slug}.")


@sftp.group("key")
def sftp_key() -> None:
    """SSH public keys that may log in as an SFTP account."""


@sftp_key.command("add")
@click.argument("username")
@click.argument("public_key_file", type=click.File("r"))
def sftp_key_add(username: str, public_key_file: IO[str]) -> None:
    """Let the key in PUBLIC_KEY_FILE (an OpenSSH .pub file, or - for stdin) log in as USERNAME."""
    from bolletta.platform import runtime
    from bolletta.tenants.accounts import add_sftp_key

    rt = runtime.configure(load_settings())
    info = add_sftp_key(rt.db, username, public_key_file.read())
    click.echo(f"Key {info.key_type} {info.fingerprint} added to SFTP account {username}.")


@sftp_key.command("list")
@click.argument("username")
def sftp_key_list(username: str) -> None:
    """List the keys of SFTP account USERNAME: type, fingerprint, comment."""
    from bolletta.platform import runtime
    from bolletta.tenants.accounts import list_sftp_keys

    rt = runtime.configure(load_settings())
    for info in list_sftp_keys(rt.db, username):
        click.echo(f"{info.key_type} {info.fingerprint} {info.comment}".rstrip())


@sftp_key.command("remove")
@click.argument("username")
@click.argument("fingerprint")
def sftp_key_remove(username: str, fingerprint: str) -> None:
    """Remove the key with FINGERPRINT (SHA256:...) from SFTP account USERNAME."""
    from bolletta.platform import runtime
    from bolletta.tenants.accounts import remove_sftp_key

    rt = runtime.configure(load_settings())
    remove_sftp_key(rt.db, username, fingerprint)
    click.echo(f"Key {fingerprint} removed from SFTP account {username}.")


@sftp.command("poll")
@click.argument("tenant_slug")
def sftp_poll(tenant_slug: str) -> None:
    """Download the finished flows from TENANT_SLUG's own SFTP server once and open their jobs."""
    from bolletta.cli.queue_wait import wait_for_queue
    from bolletta.platform import runtime, tasks, workers
    from bolletta.platform.sftp.poller import poll_tenant

    settings = load_settings()
    rt = runtime.configure(settings)
    broker = workers.setup_broker(settings)
    workers.load_actors()
    processing = tasks.start_processing(rt.db, broker) if not settings.broker_url else None
    try:
        result = poll_tenant(rt, tenant_slug)
        if processing is not None:
            # With the in-memory broker the jobs are parsed in this process, so wait for them.
            wait_for_queue(rt, broker)
    finally:
        if processing is not None:
            processing.stop()

    for name, job_id in result.opened.items():
        click.echo(f"{name}: job #{job_id} opened")
    for name, job_id in result.duplicates.items():
        click.echo(f"{name}: same archive as job #{job_id}, no new job")
    for name, reason in result.rejected.items():
        click.echo(f"{name}: no job opened, {reason}")
    for name, reason in result.skipped.items():
        click.echo(f"{name}: left on the server, {reason}")
    if not (result.opened or result.duplicates or result.rejected or result.skipped):
        click.echo("No finished files on the remote server.")


def _wait_for_signal() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
