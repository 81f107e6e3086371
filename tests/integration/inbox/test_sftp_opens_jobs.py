"""Uploads over SFTP open jobs only for whole archives the client closed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import paramiko
import pytest
from sqlalchemy import func, select

from bolletta.platform.db.models.tenant import Job
from bolletta.platform.demo.flow import build_demo_flow
from bolletta.platform.demo.run import upload_over_sftp
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.accounts import create_sftp_account
from tests.integration.stack_support import create_test_tenant, mails_to, new_slug, running_stack, wait_idle

PASSWORD = "password-sftp-lunga"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


@pytest.fixture
def tenant(stack: EmbeddedStack) -> str:
    slug = create_test_tenant(stack, new_slug("inbox"))
    create_sftp_account(stack.rt.db, slug, f"{slug}-sftp", PASSWORD)
    return slug


def _jobs(stack: EmbeddedStack, tenant: str) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return session.scalar(select(func.count(Job.id))) or 0


def _upload(stack: EmbeddedStack, tenant: str, name: str, data: bytes) -> None:
    upload_over_sftp("127.0.0.1", stack.sftp.port, f"{tenant}-sftp", PASSWORD, name, data)


def test_whole_archive_opens_one_job(stack: EmbeddedStack, tenant: str) -> None:
    flow = build_demo_flow()

    _upload(stack, tenant, flow.filename, flow.archive)
    _upload(stack, tenant, "copia.zip", flow.archive)
    wait_idle(stack)

    with stack.rt.db.tenant_session(tenant) as session:
        jobs = list(session.scalars(select(Job)))
    assert len(jobs) == 1
    subjects = [str(mail.message["Subject"]) for mail in mails_to(stack, f"staff@{tenant}.example")]
    assert any("copia.zip: file già ricevuto" in subject for subject in subjects), subjects
    assert jobs[0].source == "sftp"
    assert jobs[0].filename == flow.filename
    assert jobs[0].bills_accepted == len(flow.document_numbers)
    area = stack.rt.settings.data_path / "sftp" / tenant
    assert not (area / flow.filename).exists()
    assert not (area / "copia.zip").exists()


def test_truncated_archive_opens_no_job_and_can_be_sent_again(stack: EmbeddedStack, tenant: str) -> None:
    flow = build_demo_flow()

    _upload(stack, tenant, "flusso.zip", flow.archive[: len(flow.archive) // 2])
    wait_idle(stack)
    assert _jobs(stack, tenant) == 0
    subjects = [str(mail.message["Subject"]) for mail in mails_to(stack, f"staff@{tenant}.example")]
    assert any("flusso.zip: file incompleto" in subject for subject in subjects), subjects

    _upload(stack, tenant, "flusso.zip", flow.archive)
    wait_idle(stack)
    assert _jobs(stack, tenant) == 1


def test_upload_cut_by_disconnect_opens_no_job(stack: EmbeddedStack, tenant: str) -> None:
    flow = build_demo_flow()
    sock = socket.create_connection(("127.0.0.1", stack.sftp.port))
    transport = paramiko.Transport(sock)
    transport.connect(username=f"{tenant}-sftp", password=PASSWORD)
    client = paramiko.SFTPClient.from_transport(transport)
    assert client is not None
    handle = client.open("interrotto.zip", "wb")
    handle.write(flow.archive[:2048])
    handle.flush()
    sock.shutdown(socket.SHUT_RDWR)  # the client vanishes without CLOSE
    sock.close()
    time.sleep(0.5)
    wait_idle(stack)

    assert _jobs(stack, tenant) == 0

    _upload(stack, tenant, "interrotto.zip", flow.archive)
    wait_idle(stack)
    assert _jobs(stack, tenant) == 1


def test_non_flow_file_opens_no_job(stack: EmbeddedStack, tenant: str) -> None:
    _upload(stack, tenant, "note.txt", b"promemoria")
    wait_idle(stack)

    assert _jobs(stack, tenant) == 0
