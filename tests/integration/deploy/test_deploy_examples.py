"""The deployment examples work: systemd units verify, the nginx site passes ``nginx -t``, and a
request through that nginx reaches ``bolletta serve`` with the client's own address.

nginx comes from Debian's package: `.ci/run` installs it, and without it these tests are skipped
locally (and fail when CI=true). The server blocks listen on 127.0.0.1 only, on free ports.
"""

from __future__ import annotations

import datetime
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import running_in_ci
from tests.integration.stack_support import csrf_token

REPOSITORY = Path(__file__).resolve().parents[3]
DEPLOY = REPOSITORY / "deploy"
PLATFORM_HOST = "bollette.example.it"
LINK_DOMAIN = "bollette.acme-energia.example"
BOLLETTA = Path(sys.executable).with_name("bolletta")


def _require(program: str) -> str:
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if path is None:
        message = f"{program} is not installed (Debian package {program}; .ci/run installs it)"
        if running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return certificate_path, key_path


def _nginx_config(folder: Path, *, http_port: int, https_port: int, upstream_port: int) -> Path:
    """Write the example site with local certificates, loopback ports and its own upstream, and return
    an nginx.conf that includes it."""
    site = (DEPLOY / "nginx" / "bolletta.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/ssl/bolletta", str(folder))
    site = re.sub(r"^\s*listen \[::\]:.*\n", "", site, flags=re.MULTILINE)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
    (folder / "site.conf").write_text(site, encoding="utf-8")
    for name in (PLATFORM_HOST, LINK_DOMAIN):
        _self_signed(folder, name)
    main = folder / "nginx.conf"
    main.write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\nhttp {{\n"
        f"    access_log {folder}/access.log;\n    client_body_temp_path {folder}/body;\n"
        f"    proxy_temp_path {folder}/proxy;\n    include {folder}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    return main


def test_systemd_units_verify(tmp_path: Path) -> None:
    analyze = _require("systemd-analyze")
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text(encoding="utf-8")
        # The units name the production paths; point them at this checkout's program and make the
        # settings file optional, so verify checks everything else as written.
        text = text.replace("/opt/bolletta/venv/bin/bolletta", str(BOLLETTA))
        text = text.replace("EnvironmentFile=/etc", "EnvironmentFile=-/etc")
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text, encoding="utf-8")
        units.append(str(tmp_path / name))

    checked = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, timeout=120, check=False)

    assert len(units) == 4
    assert checked.returncode == 0, checked.stderr


def test_nginx_example_passes_config_test(tmp_path: Path) -> None:
    nginx = _require("nginx")
    config = _nginx_config(tmp_path, http_port=_free_port(), https_port=_free_port(), upstream_port=_free_port())

    checked = subprocess.run([nginx, "-t", "-c", str(config), "-e", str(tmp_path / "error.log")],
                             capture_output=True, text=True, timeout=60, check=False)

    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


@pytest.fixture
def serve_behind_nginx(tmp_path: Path) -> Iterator[tuple[int, int, Path]]:
    """Run ``bolletta serve`` trusting 127.0.0.1 behind the example nginx.

    Yields the nginx HTTPS port, the app's own port and the file with the app's log.
    """
    nginx = _require("nginx")
    app_port, https_port = _free_port(), _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""), "BOLLETTA_DATA_DIR": str(tmp_path / "data"),
        "BOLLETTA_SECRET_KEY": secrets.token_hex(32), "BOLLETTA_HTTP_PORT": str(app_port),
        "BOLLETTA_PLATFORM_HOST": PLATFORM_HOST, "BOLLETTA_TRUSTED_PROXIES": "127.0.0.1",
        "BOLLETTA_SFTP_PORT": "0", "BOLLETTA_COOKIE_SECURE": "false",
    }
    upgraded = subprocess.run([str(BOLLETTA), "db", "upgrade"], env=env, capture_output=True, text=True,
                              timeout=120, check=False)
    assert upgraded.returncode == 0, upgraded.stderr

    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        app = subprocess.Popen([str(BOLLETTA), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    config = _nginx_config(tmp_path, http_port=_free_port(), https_port=https_port, upstream_port=app_port)
    proxy = subprocess.Popen([nginx, "-c", str(config), "-e", str(tmp_path / "error.log"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{app_port}/health/live", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield https_port, app_port, log_path
    finally:
        proxy.send_signal(signal.SIGQUIT)
        app.send_signal(signal.SIGTERM)
        proxy.wait(timeout=30)
        app.wait(timeout=30)


def _failed_sign_in(client: httpx.Client, base_url: str, headers: dict[str, str]) -> None:
    page = client.get(f"{base_url}/office/login", headers=headers)
    assert page.status_code == 200, page.text
    response = client.post(f"{base_url}/office/login", headers=headers,
                           data={"username": "nessuno", "password": "sbagliata", "_csrf_token": csrf_token(page.text)})
    assert response.status_code == 401


def test_client_address_through_nginx(serve_behind_nginx: tuple[int, int, Path]) -> None:
    https_port, app_port, log_path = serve_behind_nginx
    # The client connects from 127.0.0.2, so its address differs from nginx's (127.0.0.1).
    transport = httpx.HTTPTransport(local_address="127.0.0.2", verify=False)
    with httpx.Client(transport=transport, timeout=30) as client:
        _failed_sign_in(client, f"https://127.0.0.1:{https_port}", {"Host": PLATFORM_HOST})

    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30) as client:
        # Straight to the app with a forged header: 127.0.0.2 is no trusted proxy, so it is ignored.
        _failed_sign_in(client, f"http://127.0.0.1:{app_port}",
                        {"Host": PLATFORM_HOST, "X-Forwarded-For": "10.9.9.9"})

    log = log_path.read_text(encoding="utf-8")
    failures = re.findall(r"sign-in failed for username 'nessuno' from (\S+)", log)
    assert failures == ["127.0.0.2", "127.0.0.2"]
    assert "10.9.9.9" not in log
