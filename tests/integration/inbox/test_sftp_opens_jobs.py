"""Uploads over SFTP open jobs only for whole archives the client closed."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paramiko
import pytest
from sqlalchemy import func, select

from bolletta.platform.db.models.tenant import Contact, Job
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


@contextmanager
def _client(stack: EmbeddedStack, tenant: str) -> Iterator[paramiko.SFTPClient]:
    transport = paramiko.Transport(("127.0.0.1", stack.sftp.port))
    try:
        transport.connect(username=f"{tenant}-sftp", password=PASSWORD)
        client = paramiko.SFTPClient.from_transport(transport)
        assert client is not None
        client.get_channel().settimeout(10)
        yield client
        client.close()
    finally:
        transport.close()


def _area(stack: EmbeddedStack, tenant: str) -> Path:
    return stack.rt.settings.data_path / "sftp" / tenant


def _subjects(stack: EmbeddedStack, tenant: str) -> list[str]:
    return [str(mail.message["Subject"]) for mail in mails_to(stack, f"staff@{tenant}.example")]


def test_put_with_size_check_and_times_succeeds(stack: EmbeddedStack, tenant: str, tmp_path: Path) -> None:
    flow = build_demo_flow()
    local = tmp_path / flow.filename
    local.write_bytes(flow.archive)

    with _client(stack, tenant) as sftp:
        # put() stats the file after close (confirm=True); the job has already taken it by then.
        attributes = sftp.put(str(local), flow.filename)
        sftp.utime(flow.filename, (1_700_000_000, 1_700_000_000))
        assert sftp.listdir(".") == []
    wait_idle(stack)

    assert attributes.st_size == len(flow.archive)
    assert _jobs(stack, tenant) == 1


@pytest.mark.parametrize("suffix", [".part", ".tmp", ".filepart"])
def test_upload_to_temporary_name_then_rename_opens_job(stack: EmbeddedStack, tenant: str, suffix: str) -> None:
    flow = build_demo_flow()

    with _client(stack, tenant) as sftp:
        sftp.putfo(io.BytesIO(flow.archive), f"a2.zip{suffix}")
        assert sftp.listdir(".") == [f"a2.zip{suffix}"]
        assert _jobs(stack, tenant) == 0
        sftp.rename(f"a2.zip{suffix}", "a2.zip")
        assert sftp.stat("a2.zip").st_size == len(flow.archive)
        assert sftp.listdir(".") == []
    wait_idle(stack)

    assert _jobs(stack, tenant) == 1


def test_rename_of_open_upload_opens_job_on_close(stack: EmbeddedStack, tenant: str) -> None:
    flow = build_demo_flow()

    with _client(stack, tenant) as sftp:
        remote = sftp.open("a2.zip.filepart", "wb")
        remote.write(flow.archive[:100])
        remote.flush()
        sftp.posix_rename("a2.zip.filepart", "a2.zip")
        remote.write(flow.archive[100:])
        remote.flush()
        assert _jobs(stack, tenant) == 0
        remote.close()
        assert sftp.listdir(".") == []
    wait_idle(stack)

    assert _jobs(stack, tenant) == 1


def test_contacts_renamed_from_temporary_name(stack: EmbeddedStack, tenant: str) -> None:
    csv = b"Codice Cliente;Cellulare\r\nC-001;333 123 4567\r\n"

    with _client(stack, tenant) as sftp:
        sftp.mkdir("contatti")
        sftp.putfo(io.BytesIO(csv), "contatti/recapiti.csv.part")
        assert sftp.listdir("contatti") == ["recapiti.csv.part"]
        sftp.posix_rename("contatti/recapiti.csv.part", "contatti/recapiti.csv")
        assert sftp.listdir("contatti") == []
    wait_idle(stack)

    with stack.rt.db.tenant_session(tenant) as session:
        codes = list(session.scalars(select(Contact.customer_code).where(Contact.source == "directory")))
    assert codes == ["C-001"]


@pytest.mark.parametrize(
    ("name", "data", "subject"),
    [
        ("empty.zip", b"", "empty.zip: file vuoto"),
        ("wrong.txt", b"promemoria", "wrong.txt: tipo di file non gestito"),
        ("flusso.zip", b"PK\x03\x04 troncato", "flusso.zip: file incompleto"),
    ],
)
def test_file_that_opens_no_job_moves_to_scartati(
    stack: EmbeddedStack, tenant: str, name: str, data: bytes, subject: str
) -> None:
    with _client(stack, tenant) as sftp:
        sftp.mkdir("flussi")
        sftp.putfo(io.BytesIO(data), f"flussi/{name}")
        assert sftp.listdir("flussi") == []
        assert sftp.listdir("scartati") == [name]
        sftp.putfo(io.BytesIO(data), name)
        assert sorted(sftp.listdir("scartati"))[1] == name
    wait_idle(stack)

    assert _jobs(stack, tenant) == 0
    area = _area(stack, tenant)
    assert (area / "scartati" / name).read_bytes() == data
    assert not (area / name).exists()
    assert any(subject in line for line in _subjects(stack, tenant)), _subjects(stack, tenant)
    bodies = [mail.message.get_content() for mail in mails_to(stack, f"staff@{tenant}.example")
              if subject in str(mail.message["Subject"])]
    assert len(bodies) == 2
    assert all("cartella scartati/" in body for body in bodies), bodies


def test_file_in_scartati_is_left_alone(stack: EmbeddedStack, tenant: str) -> None:
    with _client(stack, tenant) as sftp:
        sftp.mkdir("scartati")
        sftp.putfo(io.BytesIO(build_demo_flow().archive), "scartati/vecchio.zip")
    wait_idle(stack)

    assert _jobs(stack, tenant) == 0
    assert (_area(stack, tenant) / "scartati" / "vecchio.zip").exists()
