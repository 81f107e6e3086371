"""``bolletta demo``: the main job end to end on the embedded default, written once.

The CLI and the end-to-end test both call :func:`run_demo`: provision the demo tenant, start the
embedded stack, upload the demo flow over SFTP as a utility would, approve the test batch and start
the dispatch as the tenant's operator, and collect the customer links that went out.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from sqlalchemy import select

from bolletta.platform.db.models.tenant import Job, StoredMessage
from bolletta.platform.demo.flow import DemoFlow, build_demo_flow
from bolletta.platform.demo.tenant import DEMO_SLUG, OPERATOR_USERNAME, SFTP_USERNAME, provision_demo_tenant
from bolletta.platform.errors import BollettaError
from bolletta.platform.jobs import approval, states
from bolletta.platform.privacy import mask_contact
from bolletta.platform.settings import Settings
from bolletta.platform.stack import EmbeddedStack, start_stack

logger = logging.getLogger(__name__)

STATE_TIMEOUT_SECONDS = 120.0
CLOSE_TIMEOUT_SECONDS = 5.0
"""How long the demo's SFTP client waits for the server to close the connection after an upload."""
LINK_PATTERN = re.compile(r"https?://\S+/t/[0-9A-Za-z]{22}")
DATA_MARKERS = ("platform.db", "secret_key")


class DemoError(BollettaError):
    """Raised when the demo cannot run (data folder not ours, a step timed out)."""


@dataclass
class DemoResult:
    """Outcome of a demo run, for printing and for the end-to-end test."""

    stack: EmbeddedStack
    job_id: int
    flow: DemoFlow
    operator_username: str
    operator_password: str
    sftp_password: str = ""
    customer_links: list[tuple[str, str, str]] = field(default_factory=list)
    """(channel, recipient, link) of every customer message sent, test messages excluded."""
    test_links: list[tuple[str, str, str]] = field(default_factory=list)


def reset_data_dir(path: Path) -> None:
    """Delete a data folder the demo made before; refuse a folder that does not look like one."""
    if not path.exists():
        return
    if any(path.iterdir()) and not any((path / marker).exists() for marker in DATA_MARKERS):
        raise DemoError(f"{path} is not a Bolletta Smart data folder; refusing to delete it. "
                        "Pass --data-dir with an empty or demo folder.")
    shutil.rmtree(path)


def upload_over_sftp(host: str, port: int, username: str, password: str, name: str, data: bytes) -> None:
    """Upload ``data`` as ``name`` with a real SFTP client, closing the file explicitly."""
    transport = paramiko.Transport((host, port))
    try:
        transport.connect(username=username, password=password)
        client = paramiko.SFTPClient.from_transport(transport)
        assert client is not None
        with client.open(name, "wb") as handle:
            handle.write(data)
        client.close()
        disconnect(transport)
    finally:
        transport.close()


def disconnect(transport: paramiko.Transport, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
    """Half-close the connection and read until the server closes its side.

    ``Transport.close`` (paramiko 5.1) closes the socket at once. Data the server sent after the
    last read, such as its reply to the SFTP channel's close, is then still unread, so the kernel
    resets the connection and the server logs "Connection reset by peer" as an error. After the
    half-close the server reads the end of the stream and closes first, and the transport's thread
    reads everything the server sent up to its close.
    """
    with contextlib.suppress(OSError):
        transport.sock.shutdown(socket.SHUT_WR)
    transport.join(timeout)


def wait_for_state(stack: EmbeddedStack, job_id: int, wanted: set[str], timeout: float = STATE_TIMEOUT_SECONDS) -> str:
    """Poll the job until its state is in ``wanted``; raise :class:`DemoError` on timeout or failure."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        with stack.rt.db.tenant_session(DEMO_SLUG) as session:
            state = session.scalar(select(Job.state).where(Job.id == job_id)) or ""
        if state in wanted:
            return state
        if state == states.FAILED:
            raise DemoError(f"Job #{job_id} failed; see its report in the backoffice.")
        time.sleep(0.1)
    raise DemoError(f"Job #{job_id} stayed in {state or 'no state'} for {timeout:.0f} s (wanted {wanted}).")


def wait_for_job(stack: EmbeddedStack, timeout: float = STATE_TIMEOUT_SECONDS) -> int:
    """Wait until the upload has opened a job and return the demo tenant's newest job id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with stack.rt.db.tenant_session(DEMO_SLUG) as session:
            job_id = session.scalar(select(Job.id).order_by(Job.id.desc()).limit(1))
        if job_id is not None:
            return job_id
        time.sleep(0.1)
    raise DemoError("The SFTP upload opened no job.")


def _links(stack: EmbeddedStack, *, test: bool) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    marker = "[TEST]"
    if stack.catcher is not None:
        # The stored files include the mail of earlier runs on this data folder, as the SMS rows do.
        for mail in stack.catcher.stored_messages():
            body = mail.message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            is_test = marker in str(mail.message.get("Subject", ""))
            for link in LINK_PATTERN.findall(text):
                if is_test == test:
                    found.append(("email", ", ".join(mail.recipients), link))
    with stack.rt.db.tenant_session(DEMO_SLUG) as session:
        for row in session.scalars(select(StoredMessage).order_by(StoredMessage.id)):
            if row.text.startswith(marker) == test:
                found.extend((row.kind, row.to_address, link) for link in LINK_PATTERN.findall(row.text))
    return found


def run_demo(settings: Settings, *, reset: bool = False, smtp_port: int = 1025) -> DemoResult:
    """Run the main job end to end and leave the stack running; the caller stops it."""
    if reset:
        reset_data_dir(settings.data_path)
    stack = start_stack(settings, smtp_port=smtp_port, create_secret=True)
    try:
        operator_password, sftp_password = provision_demo_tenant(stack.rt)
        flow = build_demo_flow()
        upload_over_sftp(settings.sftp_host, stack.sftp.port, SFTP_USERNAME, sftp_password, flow.filename,
                         flow.archive)
        job_id = wait_for_job(stack)
        state = wait_for_state(stack, job_id, {states.TEST_SENT, states.APPROVED, states.DISPATCHING,
                                                states.DISPATCHED})
        operator = _operator(stack)
        if state == states.TEST_SENT:
            approval.approve(stack.rt, DEMO_SLUG, job_id, operator)
            state = states.APPROVED
        if state == states.APPROVED:
            approval.start_dispatch(stack.rt, DEMO_SLUG, job_id, operator)
        wait_for_state(stack, job_id, {states.DISPATCHED})
        if stack.catcher is not None:
            _wait_for_mail(stack)
        return DemoResult(
            stack=stack, job_id=job_id, flow=flow, operator_username=OPERATOR_USERNAME,
            operator_password=operator_password, sftp_password=sftp_password, customer_links=_links(stack, test=False),
            test_links=_links(stack, test=True),
        )
    except BaseException:
        stack.stop()
        raise


def _operator(stack: EmbeddedStack) -> approval.Staff:
    from bolletta.platform.db.models.platform import User

    with stack.rt.db.platform_session() as session:
        user = session.scalar(select(User).where(User.username == OPERATOR_USERNAME))
    assert user is not None
    return approval.Staff(user_id=user.id, username=user.username, role=user.role, tenant=DEMO_SLUG,
                          ip="127.0.0.1")


def _wait_for_mail(stack: EmbeddedStack, settle_seconds: float = 0.5) -> None:
    # Sends finish before the job turns dispatched, but staff notifications may still be queued.
    from bolletta.platform import workers

    broker = workers.setup_broker(stack.rt.settings)
    workers.wait_idle(broker)
    time.sleep(settle_seconds)


def format_report(result: DemoResult) -> str:
    """Format the demo's closing text: staff login, the mail catcher's messages, the customer links."""
    out = io.StringIO()
    base = result.stack.base_url
    out.write(f"\nBolletta Smart demo: job #{result.job_id} dispatched.\n\n")
    out.write(f"Backoffice: {base}/office/login\n")
    out.write(f"  username: {result.operator_username}\n  password: {result.operator_password}\n\n")
    sftp_host = result.stack.rt.settings.sftp_host
    out.write(f"SFTP area of ACME: sftp -P {result.stack.sftp.port} {SFTP_USERNAME}@{sftp_host}\n")
    out.write(f"  password: {result.sftp_password}  (upload a ZIP flow there to open a new job)\n\n")
    caught = result.stack.catcher.messages if result.stack.catcher else []
    out.write(f"Mail catcher (127.0.0.1:{result.stack.catcher.port if result.stack.catcher else '-'}) "
              f"caught {len(caught)} messages:\n")
    for mail in caught:
        recipients = ", ".join(mask_contact(address) for address in mail.recipients)
        out.write(f"  to {recipients}: {mail.message.get('Subject', '')}\n")
    out.write("\nCustomer links:\n")
    for channel, recipient, link in result.customer_links:
        out.write(f"  {channel:<8} {mask_contact(recipient):<28} {link}\n")
    return out.getvalue()
