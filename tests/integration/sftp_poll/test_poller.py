"""Polling a utility's SFTP server, played by a second instance of our own SFTP server."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import msgspec
import paramiko
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from bolletta.platform.db.models.tenant import Job
from bolletta.platform.demo.flow import build_demo_flow
from bolletta.platform.runtime import Runtime
from bolletta.platform.sftp import credentials
from bolletta.platform.sftp.poller import HostKeyMismatch, PollError, poll_tenant
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.registry import create_tenant, get_tenant, save_config, tenant_config
from tests.integration.sftp_poll.remote_server import (
    POLLER_KEY_PEM,
    REMOTE_PASSWORD,
    REMOTE_USER,
    RemoteServer,
    poll_settings,
    running_remote,
)
from tests.integration.stack_support import create_test_tenant, new_slug, running_stack, wait_idle
from tests.integration.stack_support import tenant_config as fresh_config


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running



@pytest.fixture
def remote(tmp_path: Path) -> Iterator[RemoteServer]:
    with running_remote(tmp_path) as server:
        yield server


def _tenant(stack: EmbeddedStack, remote: RemoteServer, **changes: object) -> str:
    return create_test_tenant(stack, new_slug("poll"), sftp_poll=poll_settings(remote, **changes))


def _stored_settings(stack: EmbeddedStack, tenant: str) -> str:
    """Return the tenant's settings column as the database stores it, read without the ORM."""
    with stack.rt.db.platform_session() as session:
        raw = session.execute(text("SELECT settings FROM tenants WHERE slug = :slug"), {"slug": tenant}).scalar_one()
    return raw if isinstance(raw, str) else str(raw)


def _with_keys(stack: EmbeddedStack, *keys: str) -> Runtime:
    """Return the stack's runtime with ``BOLLETTA_ENCRYPTION_KEYS`` set to ``keys``."""
    settings = msgspec.structs.replace(stack.rt.settings, encryption_keys=list(keys))
    return dataclasses.replace(stack.rt, settings=settings)


def _put_flow(remote: RemoteServer) -> str:
    flow = build_demo_flow()
    remote.put(flow.filename, flow.archive)
    remote.put(flow.filename + ".done", b"")
    return flow.filename


def _jobs(stack: EmbeddedStack, tenant: str) -> list[Job]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def test_marked_file_opens_job_and_moves(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = _tenant(stack, remote)
    flow = build_demo_flow()
    remote.put(flow.filename, flow.archive)
    remote.put(flow.filename + ".done", b"")
    remote.put("in-arrivo.zip", flow.archive[:100])

    result = poll_tenant(stack.rt, tenant)
    wait_idle(stack)

    jobs = _jobs(stack, tenant)
    assert len(jobs) == 1
    assert jobs[0].source == "sftp_poll"
    assert jobs[0].filename == flow.filename
    assert jobs[0].bills_accepted == len(flow.document_numbers)
    assert result.opened == {flow.filename: jobs[0].id}
    assert remote.names() == ["in-arrivo.zip", "processed"]
    assert remote.names("processed") == [flow.filename, flow.filename + ".done"]


def test_second_poll_takes_nothing(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = _tenant(stack, remote)
    flow = build_demo_flow()
    remote.put(flow.filename, flow.archive)
    remote.put(flow.filename + ".done", b"")

    poll_tenant(stack.rt, tenant)
    second = poll_tenant(stack.rt, tenant)
    wait_idle(stack)

    assert second.opened == {}
    assert second.duplicates == {}
    assert len(_jobs(stack, tenant)) == 1


def test_same_archive_twice_one_job(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = _tenant(stack, remote)
    flow = build_demo_flow()
    for name in ("primo.zip", "copia.zip"):
        remote.put(name, flow.archive)
        remote.put(name + ".done", b"")

    result = poll_tenant(stack.rt, tenant)
    wait_idle(stack)

    jobs = _jobs(stack, tenant)
    assert len(jobs) == 1
    assert result.duplicates == {"primo.zip": jobs[0].id}
    assert result.opened == {"copia.zip": jobs[0].id}
    assert remote.names("processed") == ["copia.zip", "copia.zip.done", "primo.zip", "primo.zip.done"]


def test_name_taken_again_kept_apart(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = _tenant(stack, remote)
    remote.put("processed/note.txt", b"earlier")
    remote.put("processed/note.txt.done", b"")
    remote.put("note.txt", b"later")
    remote.put("note.txt.done", b"")

    result = poll_tenant(stack.rt, tenant)

    assert "not a billing flow" in result.rejected["note.txt"]
    processed = remote.names("processed")
    assert len(processed) == 4
    assert (remote.area / "processed" / "note.txt").read_bytes() == b"earlier"
    later = [name for name in processed if name.endswith("-note.txt")]
    assert len(later) == 1
    assert (remote.area / "processed" / later[0]).read_bytes() == b"later"


def test_delete_after_download(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = _tenant(stack, remote, after_download="delete")
    flow = build_demo_flow()
    remote.put(flow.filename, flow.archive)
    remote.put(flow.filename + ".done", b"")

    result = poll_tenant(stack.rt, tenant)
    wait_idle(stack)

    assert list(result.opened) == [flow.filename]
    assert remote.names() == []


def test_truncated_archive_opens_no_job(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = _tenant(stack, remote)
    flow = build_demo_flow()
    remote.put("rotto.zip", flow.archive[: len(flow.archive) // 2])
    remote.put("rotto.zip.done", b"")

    result = poll_tenant(stack.rt, tenant)
    wait_idle(stack)

    assert "not a complete ZIP archive" in result.rejected["rotto.zip"]
    assert _jobs(stack, tenant) == []
    assert remote.names("processed") == ["rotto.zip", "rotto.zip.done"]


def test_oversized_file_left_on_server(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = _tenant(stack, remote, max_file_bytes=10)
    remote.put("grande.zip", b"x" * 11)
    remote.put("grande.zip.done", b"")

    result = poll_tenant(stack.rt, tenant)

    assert "more than max_file_bytes 10" in result.skipped["grande.zip"]
    assert remote.names() == ["grande.zip", "grande.zip.done"]


def test_host_key_mismatch_rejected(
    stack: EmbeddedStack, remote: RemoteServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")
    wrong = paramiko.Ed25519Key.from_private_key(io.StringIO(POLLER_KEY_PEM)).fingerprint
    tenant = _tenant(stack, remote, host_key_fingerprint=wrong)
    flow = build_demo_flow()
    remote.put(flow.filename, flow.archive)
    remote.put(flow.filename + ".done", b"")

    with pytest.raises(HostKeyMismatch, match=re.escape(f"not the configured {wrong}")):
        poll_tenant(stack.rt, tenant)

    assert remote.logins == []
    assert _jobs(stack, tenant) == []
    assert remote.names() == [flow.filename, flow.filename + ".done"]
    assert "disconnected before logging in" in caplog.text
    assert REMOTE_PASSWORD not in caplog.text


def test_private_key_login(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = _tenant(stack, remote, password="", private_key=POLLER_KEY_PEM)
    flow = build_demo_flow()
    remote.put(flow.filename, flow.archive)
    remote.put(flow.filename + ".done", b"")

    result = poll_tenant(stack.rt, tenant)
    wait_idle(stack)

    assert list(result.opened) == [flow.filename]
    assert remote.logins == [f"key:{REMOTE_USER}"]


def test_wrong_password_raises(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = _tenant(stack, remote, password="password-sbagliata")

    with pytest.raises(PollError, match=f"Login as '{REMOTE_USER}' on 127.0.0.1:"):
        poll_tenant(stack.rt, tenant)


def test_invalid_settings_raise(stack: EmbeddedStack, remote: RemoteServer) -> None:
    tenant = _tenant(stack, remote, host_key_fingerprint="")
    with pytest.raises(PollError, match="host_key_fingerprint '' is invalid"):
        poll_tenant(stack.rt, tenant)

    config = tenant_config(get_tenant(stack.rt.db, tenant))
    save_config(stack.rt.db, tenant, msgspec.structs.replace(
        config, sftp_poll=poll_settings(remote, after_download="archive")
    ))
    with pytest.raises(PollError, match="after_download 'archive' is invalid"):
        poll_tenant(stack.rt, tenant)

    save_config(stack.rt.db, tenant, msgspec.structs.replace(config, sftp_poll=None))
    with pytest.raises(PollError, match="has no remote SFTP server configured"):
        poll_tenant(stack.rt, tenant)

    assert remote.logins == []


@pytest.mark.parametrize(("field", "login"), [("password", "password"), ("private_key", "key")])
def test_login_stored_encrypted(stack: EmbeddedStack, remote: RemoteServer, field: str, login: str) -> None:
    secret = REMOTE_PASSWORD if field == "password" else POLLER_KEY_PEM
    tenant = _tenant(stack, remote, **{"password": "", field: secret})
    filename = _put_flow(remote)

    stored = _stored_settings(stack, tenant)
    result = poll_tenant(stack.rt, tenant)
    wait_idle(stack)

    for line in secret.splitlines():
        assert line not in stored
    assert stored.count(credentials.SEALED_PREFIX) == 1
    assert list(result.opened) == [filename]
    assert remote.logins == [f"{login}:{REMOTE_USER}"]


def test_clear_login_still_polls(
    stack: EmbeddedStack, remote: RemoteServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bolletta.platform.sftp")
    tenant = new_slug("poll")
    # As a version before the encryption stored it: create_tenant does not seal.
    config = fresh_config(tenant, sftp_poll=poll_settings(remote))
    create_tenant(stack.rt.db, tenant, "Utility in chiaro S.p.A.", config)
    filename = _put_flow(remote)

    stored = _stored_settings(stack, tenant)
    result = poll_tenant(stack.rt, tenant)
    wait_idle(stack)

    assert REMOTE_PASSWORD in stored
    assert list(result.opened) == [filename]
    assert remote.logins == [f"password:{REMOTE_USER}"]
    assert "sftp_poll password stored unencrypted" in caplog.text
    assert REMOTE_PASSWORD not in caplog.text


def test_rotated_keys_still_open(stack: EmbeddedStack, remote: RemoteServer) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    tenant = new_slug("poll")
    config = fresh_config(tenant, sftp_poll=poll_settings(remote))
    config = credentials.sealed_config(_with_keys(stack, old_key), config)
    create_tenant(stack.rt.db, tenant, "Utility ruotata S.p.A.", config)
    filename = _put_flow(remote)
    rotated = _with_keys(stack, new_key, old_key)

    with pytest.raises(PollError, match=re.escape("sftp_poll.password does not decrypt")):
        poll_tenant(_with_keys(stack, new_key), tenant)
    result = poll_tenant(rotated, tenant)
    wait_idle(stack)

    assert list(result.opened) == [filename]
    assert remote.logins == [f"password:{REMOTE_USER}"]


def test_new_key_seals_after_rotation(stack: EmbeddedStack, remote: RemoteServer) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    sealed = credentials.seal_login(_with_keys(stack, new_key, old_key), poll_settings(remote))
    opened = credentials.open_login(_with_keys(stack, new_key), sealed)

    assert credentials.is_sealed(sealed.password)
    assert opened.password == REMOTE_PASSWORD
    with pytest.raises(credentials.UndecryptableSecret):
        credentials.open_login(_with_keys(stack, old_key), sealed)
