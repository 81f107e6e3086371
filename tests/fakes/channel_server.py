"""What the fake message providers share: a threaded HTTP(S) server on loopback, a test CA, faults.

Each fake (``skebby.py``, ``twilio.py``, ``whatsapp.py``) subclasses :class:`FakeProvider` and
handles its own paths. Faults are switched on per test through :class:`Faults`:

- ``fail_next(n, status)``: the next ``n`` send requests get HTTP ``status`` (500, 503, 429...)
  and are not taken;
- ``hang_next(n, seconds)``: the next ``n`` send requests wait ``seconds`` before answering
  (a client timeout) and are not taken;
- ``accept_then_hang_next(n, seconds)``: taken (counted), then the answer waits (a lost answer);
- ``malformed_next(n)``: taken, then answered with a body that is not JSON.

Delivery reports are pushed by :meth:`FakeProvider.push_reports`, which can shuffle, duplicate and
delay them, as real providers do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import random
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class LoopbackCA:
    """A CA and a server certificate for 127.0.0.1 and localhost, written as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_test_ca(folder: Path) -> LoopbackCA:
    """Create a throw-away CA and a loopback server certificate under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bolletta test CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return LoopbackCA(ca_file=ca_file, cert_file=cert_file, key_file=key_file)


@dataclass
class Faults:
    """Misbehaviour switches; each counts down per send request."""

    fail: list[int] = field(default_factory=list)
    hang: list[float] = field(default_factory=list)
    accept_then_hang: list[float] = field(default_factory=list)
    malformed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` sends with ``status`` without taking them."""
        with self.lock:
            self.fail.extend([status] * count)

    def hang_next(self, count: int, seconds: float) -> None:
        """Let the next ``count`` sends wait ``seconds`` before being answered, without taking them."""
        with self.lock:
            self.hang.extend([seconds] * count)

    def accept_then_hang_next(self, count: int, seconds: float) -> None:
        """Take the next ``count`` sends, then wait ``seconds`` before answering."""
        with self.lock:
            self.accept_then_hang.extend([seconds] * count)

    def malformed_next(self, count: int) -> None:
        """Take the next ``count`` sends and answer them with a body that is not JSON."""
        with self.lock:
            self.malformed += count

    def take(self) -> tuple[str, Any]:
        """Return the fault for one send request: ``('fail', status)``, ``('hang', s)``... or ``('ok', None)``."""
        with self.lock:
            if self.fail:
                return "fail", self.fail.pop(0)
            if self.hang:
                return "hang", self.hang.pop(0)
            if self.accept_then_hang:
                return "accept_then_hang", self.accept_then_hang.pop(0)
            if self.malformed:
                self.malformed -= 1
                return "malformed", None
        return "ok", None


@dataclass
class Reply:
    """An answer a fake handler returns."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any, **headers: str) -> Reply:
        return cls(status, json.dumps(value).encode(), headers=headers)


class FakeProvider:
    """A provider's HTTP API on 127.0.0.1 (HTTPS with the test CA when given one)."""

    name = "fake"

    def __init__(self, ca: LoopbackCA | None = None) -> None:
        self.faults = Faults()
        self.accepted: Counter[str] = Counter()
        """Sends the fake took, by the message's idempotency key (or recipient when there is none)."""
        self.requests = 0
        self.accepted_at: list[float] = []
        """Wall-clock time of each send the fake took."""
        self.lock = threading.Lock()
        self.ca = ca
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with Nagle's algorithm on, the body then
            # waits for the client's delayed ACK (about 40 ms on Linux) on every request.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                headers = {key.lower(): value for key, value in self.headers.items()}
                with provider.lock:
                    provider.requests += 1
                reply = provider.handle(self.command, parts.path, dict(parse_qsl(parts.query)), headers, body)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(reply.body)

            do_GET = _serve
            do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if ca is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(ca.cert_file, ca.key_file)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"fake-{self.name}", daemon=True)

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ca is not None else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        """Answer one request; subclasses implement the provider's paths."""
        raise NotImplementedError

    def faulty_send(self, key: str, accept: Any) -> Reply:
        """Run the fault switches around taking one send; ``accept()`` takes it and returns the answer."""
        fault, value = self.faults.take()
        if fault == "fail":
            return Reply.json(value, {"error": f"fake {self.name} failure"}, **({"Retry-After": "1"}
                                                                                if value == 429 else {}))
        if fault == "hang":
            time.sleep(value)
            return Reply.json(503, {"error": "too late"})
        reply: Reply = accept()
        with self.lock:
            self.accepted[key] += 1
            self.accepted_at.append(time.time())
        if fault == "accept_then_hang":
            time.sleep(value)
        if fault == "malformed":
            return Reply(reply.status, b"<html>gateway hiccup", "text/html")
        return reply

    def deliver(self, url: str, *, body: bytes, headers: dict[str, str]) -> int:
        """POST one callback to the platform; return the HTTP status it answered."""
        response = httpx.post(url, content=body, headers=headers, timeout=10)
        return response.status_code


def arrange(reports: list[Any], *, shuffle: bool = False, duplicate: bool = False, seed: int = 7) -> list[Any]:
    """Return ``reports`` shuffled and/or with every report repeated, as providers deliver them."""
    result = list(reports)
    if duplicate:
        result = result + list(reports)
    if shuffle:
        random.Random(seed).shuffle(result)
    return result


def free_port_for_tests() -> int:
    """A free TCP port on 127.0.0.1 (for servers that need a port number before they start)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
