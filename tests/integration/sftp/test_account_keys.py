"""SSH keys of SFTP accounts: the CLI, the account store and logins through the platform's server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import dsa, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bolletta.cli.main import main
from bolletta.platform import runtime
from bolletta.platform.demo.run import upload_over_sftp
from bolletta.platform.settings import load_settings
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.accounts import (
    AccountError,
    add_sftp_key,
    authenticate_sftp_key,
    create_sftp_account,
    parse_public_key,
)
from tests.integration.stack_support import create_test_tenant, new_slug, running_stack

from .conftest import CLIENT_TIMEOUT_SECONDS, generate_key

SECRET = "s" * 48
PASSWORD = "password-sftp-lunga"


def _public_line(key: paramiko.PKey, comment: str = "") -> str:
    return f"{key.get_name()} {key.get_base64()} {comment}".rstrip()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_SECRET_KEY": SECRET, "BOLLETTA_DATABASE_URL": "",
            "BOLLETTA_BROKER_URL": ""}


def _invoke(env: dict[str, str], *args: str, input_text: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, input=input_text)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


def test_key_commands(env: dict[str, str], tmp_path: Path) -> None:
    assert _invoke(env, "db", "upgrade")[0] == 0
    assert _invoke(env, "tenant", "create", "acme", "ACME Energia S.p.A.")[0] == 0
    rt = runtime.configure(load_settings(environ=env))
    create_sftp_account(rt.db, "acme", "acme-sftp", PASSWORD)
    key = generate_key()
    key_file = tmp_path / "id_ed25519.pub"
    key_file.write_text(_public_line(key, "fatturazione@acme") + "\n")

    code, output = _invoke(env, "sftp", "key", "add", "acme-sftp", str(key_file))
    assert code == 0, output
    assert f"Key ssh-ed25519 {key.fingerprint} added to SFTP account acme-sftp." in output

    code, output = _invoke(env, "sftp", "key", "add", "acme-sftp", str(key_file))
    assert code == 1
    assert f"already has key {key.fingerprint}" in output

    code, output = _invoke(env, "sftp", "key", "list", "acme-sftp")
    assert code == 0
    assert output == f"ssh-ed25519 {key.fingerprint} fatturazione@acme\n"

    code, output = _invoke(env, "sftp", "key", "remove", "acme-sftp", key.fingerprint)
    assert code == 0, output
    assert _invoke(env, "sftp", "key", "list", "acme-sftp") == (0, "")

    code, output = _invoke(env, "sftp", "key", "remove", "acme-sftp", key.fingerprint)
    assert code == 1
    assert "has no key" in output
    assert "Traceback" not in output


def test_key_add_reads_stdin(env: dict[str, str]) -> None:
    _invoke(env, "db", "upgrade")
    _invoke(env, "tenant", "create", "acme", "ACME")
    rt = runtime.configure(load_settings(environ=env))
    create_sftp_account(rt.db, "acme", "acme-sftp", PASSWORD)
    key = generate_key()

    code, output = _invoke(env, "sftp", "key", "add", "acme-sftp", "-", input_text=_public_line(key))

    assert code == 0, output
    assert key.fingerprint in _invoke(env, "sftp", "key", "list", "acme-sftp")[1]


def test_key_add_unknown_account(env: dict[str, str], tmp_path: Path) -> None:
    _invoke(env, "db", "upgrade")
    key_file = tmp_path / "id.pub"
    key_file.write_text(_public_line(generate_key()))

    code, output = _invoke(env, "sftp", "key", "add", "nobody", str(key_file))

    assert code == 1
    assert "SFTP account 'nobody' not found." in output


def _dsa_line() -> str:
    public = dsa.generate_private_key(key_size=1024).public_key()
    return public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def _short_rsa_line() -> str:
    public = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    return public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "expected a line like"),
        ("ssh-ed25519", "expected a line like"),
        ("ssh-ed25519 not-base64!", "public key is invalid"),
        ("ssh-ed25519 AAAA", "public key is invalid"),
        (_dsa_line(), "Key type 'ssh-dss' is not accepted"),
        (_short_rsa_line(), "The RSA key has 1024 bits"),
        (f"ssh-rsa {generate_key().get_base64()}", "The ssh-rsa public key is invalid"),
    ],
)
def test_invalid_keys_rejected(line: str, message: str) -> None:
    with pytest.raises(AccountError, match=message):
        parse_public_key(line)


def test_key_matches_only_its_account(stack: EmbeddedStack) -> None:
    first = create_test_tenant(stack, new_slug("keys"))
    second = create_test_tenant(stack, new_slug("keys"))
    create_sftp_account(stack.rt.db, first, f"{first}-sftp", PASSWORD)
    create_sftp_account(stack.rt.db, second, f"{second}-sftp", PASSWORD)
    key = generate_key()
    add_sftp_key(stack.rt.db, f"{first}-sftp", _public_line(key))

    assert authenticate_sftp_key(stack.rt.db, f"{first}-sftp", key) == first
    assert authenticate_sftp_key(stack.rt.db, f"{second}-sftp", key) is None
    assert authenticate_sftp_key(stack.rt.db, f"{first}-sftp", generate_key()) is None
    assert authenticate_sftp_key(stack.rt.db, "nobody", key) is None


def test_platform_server_key_login(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("keys"))
    create_sftp_account(stack.rt.db, tenant, f"{tenant}-sftp", PASSWORD)
    key = generate_key()
    add_sftp_key(stack.rt.db, f"{tenant}-sftp", _public_line(key))

    transport = paramiko.Transport(("127.0.0.1", stack.sftp.port))
    try:
        transport.connect(username=f"{tenant}-sftp", pkey=key)
        client = paramiko.SFTPClient.from_transport(transport)
        assert client is not None
        client.get_channel().settimeout(CLIENT_TIMEOUT_SECONDS)
        with client.open("nota.txt", "wb") as handle:
            handle.write(b"ciao")
        # The file was stored and, since it is not a flow, set aside.
        assert client.listdir("/scartati") == ["nota.txt"]
    finally:
        transport.close()


def test_platform_server_applies_quota(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("quota"), sftp_quota_bytes=1000)
    create_sftp_account(stack.rt.db, tenant, f"{tenant}-sftp", PASSWORD)

    upload_over_sftp("127.0.0.1", stack.sftp.port, f"{tenant}-sftp", PASSWORD, "piccolo.txt", b"x" * 600)
    with pytest.raises(OSError, match=f"Quota exceeded: the SFTP area of tenant {tenant} holds at most 1000 bytes"):
        upload_over_sftp("127.0.0.1", stack.sftp.port, f"{tenant}-sftp", PASSWORD, "grande.txt", b"y" * 600)

    # Files set aside in scartati/ count against the quota.
    area = stack.rt.settings.data_path / "sftp" / tenant
    assert sorted(path.name for path in area.iterdir()) == ["scartati"]
    assert sorted(path.name for path in (area / "scartati").iterdir()) == ["piccolo.txt"]
