"""Helpers for tests that run the embedded stack: web server, SFTP, mail catcher and worker.

The stack sets process-global state (the runtime and the Dramatiq broker), so test modules start
one stack each and never two at once. Tenants are created per test with their own slug, so jobs,
bills and mail of one test never mix with another's.
"""

from __future__ import annotations

import io
import itertools
import re
import secrets
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select

from bolletta.platform import tasks, workers
from bolletta.platform.db.models.platform import User
from bolletta.platform.db.models.tenant import Job, StoredMessage
from bolletta.platform.demo.flow import DemoFlow, build_demo_flow
from bolletta.platform.jobs import states
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.jobs.opening import OpenedJob, open_job
from bolletta.platform.mail.catcher import CaughtMail
from bolletta.platform.settings import Settings, load_settings
from bolletta.platform.sftp.credentials import sealed_config
from bolletta.platform.stack import EmbeddedStack, start_stack
from bolletta.tenants import accounts
from bolletta.tenants.config import QuietHours, TenantConfig, TestRecipient
from bolletta.tenants.registry import create_tenant

LINK_PATTERN = re.compile(r"https?://\S+/c/([a-z0-9_]+)/t/([0-9A-Za-z]{22})")
"""A customer link as messages carry it; groups: tenant slug and token."""

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]*)"')

WITHOUT_SMTP: dict[str, object] = {
    "notification_emails": [],
    "test_batch_size": 1,
    "channel_plugins": {"email": "outbox", "sms": "outbox", "whatsapp": "outbox"},
}
"""Tenant setting changes that keep every message in the ``outbox`` channel and skip staff mail.

Tests that are not about e-mail use them for speed: each SMTP send builds a new TLS context even
for plain SMTP, and loading the CA bundle took about 0.15 s per message in a profile of
``send_message``.
"""

_slug_numbers = itertools.count(1)
_running: list[Path] = []
"""Data folder of the stack that :func:`running_stack` started and has not stopped yet."""


def stack_settings(data_dir: Path) -> Settings:
    """Settings for a stack on 127.0.0.1 with free ports, SQLite files and the stub broker.

    The environment and any ``.env`` are overridden for the database and the broker, so a test
    never reaches a server that happens to be configured on the machine.
    """
    return load_settings(
        environ={}, data_dir=str(data_dir), http_port=0, sftp_port=0, tenant_path_prefix=True,
        cookie_secure=False, database_url="", broker_url="", operations_email="",
    )


@contextmanager
def running_stack(data_dir: Path) -> Iterator[EmbeddedStack]:
    """Start the embedded stack on ``data_dir`` and stop it on exit.

    Raises:
        RuntimeError: a stack started here is still running. Its worker would take this stack's
            messages and its loops would write to its own database while actors use the new runtime.
    """
    if _running:
        raise RuntimeError(
            f"the embedded stack on {_running[0]} is still running. A scope=\"package\" fixture in a "
            "folder without __init__.py lives until the end of the session; add an __init__.py to that folder."
        )
    # No scheduler: its first round would queue periodic work for every tenant, and the in-memory queue
    # outlives this stack. Tests of the scheduler start their own.
    stack = start_stack(stack_settings(data_dir), create_secret=True, run_scheduler=False)
    _running.append(data_dir)
    try:
        yield stack
    finally:
        _running.remove(data_dir)
        stack.stop()


def broker_of(stack: EmbeddedStack) -> StubBroker:
    """The process's broker; the stub broker, because the settings name no broker URL."""
    broker = workers.setup_broker(stack.rt.settings)
    assert isinstance(broker, StubBroker)
    return broker


def wait_idle(stack: EmbeddedStack) -> None:
    """Wait until the worker has processed every queued actor message."""
    workers.wait_idle(broker_of(stack), timeout_ms=30_000)


def new_slug(prefix: str = "t") -> str:
    """A tenant slug not used before in this test process."""
    return f"{prefix}{next(_slug_numbers):03d}"


def tenant_config(slug: str, **changes: object) -> TenantConfig:
    """Settings of a test tenant: staff, test recipients and sender addresses under its own domain."""
    config = TenantConfig(
        notification_emails=[f"staff@{slug}.example"],
        test_recipients=[
            TestRecipient(channel="email", address=f"collaudo@{slug}.example"),
            TestRecipient(channel="sms", address="+393330000001"),
        ],
        channel_plugins={"email": "smtp", "sms": "outbox", "whatsapp": "outbox"},
        email_sender=f"Bollette {slug} <bollette@{slug}.example>",
        sms_sender="Bollette",
        may_start_dispatch=True,
        # Messages must go out at any hour of a demo or test run; quiet-hour tests set their own.
        quiet_hours=QuietHours(kinds=[]),
    )
    return msgspec.structs.replace(config, **changes)


def create_test_tenant(stack: EmbeddedStack, slug: str, **changes: object) -> str:
    """Create tenant ``slug`` with :func:`tenant_config`, its SFTP login encrypted as the platform stores it,
    and return the slug."""
    config = sealed_config(stack.rt, tenant_config(slug, **changes))
    create_tenant(stack.rt.db, slug, f"Utility {slug.upper()} S.p.A.", config)
    return slug


@dataclass(frozen=True)
class StaffLogin:
    """A staff user created for a test, with the password it signs in with."""

    staff: Staff
    password: str


def create_staff(stack: EmbeddedStack, username: str, role: str, tenant: str | None) -> StaffLogin:
    """Create a staff user and return it as the :class:`Staff` the approval rules take."""
    password = secrets.token_urlsafe(12)
    accounts.create_user(stack.rt.db, username, password, role, tenant_slug=tenant,
                         email=f"{username}@example.org")
    with stack.rt.db.platform_session() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
    staff = Staff(user_id=user_id, username=username, role=role, tenant=tenant, ip="127.0.0.1")
    return StaffLogin(staff=staff, password=password)


def open_demo_job(
    stack: EmbeddedStack, slug: str, *, flow: DemoFlow | None = None, filename: str | None = None
) -> OpenedJob:
    """Open a job for the demo flow as an API upload would."""
    flow = flow or build_demo_flow()
    return open_job(stack.rt, slug, flow.archive, filename or flow.filename, source="api",
                    opened_by="api:test")


def run_to_test_sent(stack: EmbeddedStack, tenant: str, flow: DemoFlow | None = None) -> int:
    """Open a demo job, wait for its test batch to go out and return the job id."""
    opened = open_demo_job(stack, tenant, flow=flow)
    wait_idle(stack)
    job = load_job(stack, tenant, opened.job_id)
    assert job.state == states.TEST_SENT, f"job {job.id} is {job.state}, report: {job.report}"
    return opened.job_id


def load_job(stack: EmbeddedStack, slug: str, job_id: int) -> Job:
    """The job as stored now."""
    with stack.rt.db.tenant_session(slug) as session:
        job = session.get(Job, job_id)
        assert job is not None, f"job {job_id} of tenant {slug} not found"
        return job


def mails_to(stack: EmbeddedStack, address: str) -> list[CaughtMail]:
    """Mail the catcher received for ``address``, oldest first."""
    assert stack.catcher is not None
    return [mail for mail in stack.catcher.messages if address in mail.recipients]


def stored_texts(stack: EmbeddedStack, slug: str) -> list[str]:
    """Texts of the SMS and WhatsApp messages the ``outbox`` channel stored for ``slug``."""
    with stack.rt.db.tenant_session(slug) as session:
        return list(session.scalars(select(StoredMessage.text).order_by(StoredMessage.id)))


def csrf_token(html: str) -> str:
    """The value of the first ``_csrf_token`` form field in ``html``."""
    match = CSRF_FIELD.search(html)
    assert match is not None, "the page has no _csrf_token field"
    return match.group(1)


def web_client(stack: EmbeddedStack) -> httpx.Client:
    """An HTTP client for the stack's web server that keeps cookies and does not follow redirects."""
    return httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=10.0)


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """Post the backoffice login form with the CSRF token of a freshly loaded login page."""
    page = client.get("/office/login")
    form = {"username": username, "password": password, "_csrf_token": csrf_token(page.text)}
    return client.post("/office/login", data=form)


@contextmanager
def signed_in_client(stack: EmbeddedStack, login: StaffLogin) -> Iterator[httpx.Client]:
    """An HTTP client signed in to the backoffice as ``login``, closed on exit."""
    with web_client(stack) as client:
        response = sign_in(client, login.staff.username, login.password)
        assert response.status_code == 303, f"sign-in of {login.staff.username} returned {response.status_code}"
        yield client


@contextmanager
def held_outbox(stack: EmbeddedStack) -> Iterator[None]:
    """Keep committed task outbox rows unsent until the block ends, then relay them all.

    The rows wait as they would while the broker is unreachable. A test calls an actor's function
    directly inside the block, and the queued message for the same work runs after it, as a
    redelivery would. Pausing the Dramatiq worker instead costs about 3 s, because a paused
    consumer thread sleeps its restart delay (dramatiq 2.2).
    """
    relay = tasks.relay
    tasks.relay = lambda db, tenant: 0  # type: ignore[assignment]
    try:
        yield
    finally:
        tasks.relay = relay  # type: ignore[assignment]
        tasks.relay_all(stack.rt.db)


def zip_archive(entries: dict[str, bytes]) -> bytes:
    """A ZIP with ``entries`` (name to content), in the given order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def demo_entries(flow: DemoFlow) -> dict[str, bytes]:
    """The entries of the demo flow's ZIP, name to content."""
    with zipfile.ZipFile(io.BytesIO(flow.archive)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
