"""Staff notification e-mails (job ready for approval, job report), sent with ``smtplib``.

Customer messages go through the ``smtp`` channel plugin instead, with per-tenant settings.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from bolletta.platform.errors import ConfigurationError

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30.0
"""Timeout in seconds of the connection and of each SMTP command."""

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpServer:
    """Connection details parsed from an SMTP URL."""

    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)


def parse_smtp_url(smtp_url: str) -> SmtpServer:
    """Parse ``smtp://host:port``, ``smtp+starttls://user:pass@host:port`` or ``smtps://...``.

    The port defaults to 25, 587 and 465 respectively. Percent-encoded credentials are decoded.

    Raises:
        ConfigurationError: unknown scheme, missing host or invalid port. The message never
            repeats the URL, which may contain a password.
    """
    parts = urlsplit(smtp_url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ConfigurationError(
            f"SMTP URL scheme {scheme!r} is not supported; use smtp://, smtp+starttls:// or smtps://"
        )
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise ConfigurationError("SMTP URL has an invalid port; use a number from 1 to 65535") from exc
    if not parts.hostname:
        raise ConfigurationError("SMTP URL has no host; use for example smtp://127.0.0.1:1025")

    return SmtpServer(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def send_mail(
    smtp_url: str,
    *,
    sender: str,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
) -> None:
    """Send one e-mail to ``to`` through the server at ``smtp_url``.

    Args:
        smtp_url: Server URL, see :func:`parse_smtp_url`.
        sender: ``From`` header, either an address or ``Name <address>``; its address is also the
            envelope sender.
        to: Recipient addresses.
        subject: Subject line.
        text: Plain text body.
        html: Optional HTML alternative of ``text``.

    Raises:
        ConfigurationError: ``smtp_url`` is invalid or ``to`` is empty.
        smtplib.SMTPException: the server rejected the message or a command.
        OSError: the server could not be reached or timed out.
    """
    if not to:
        raise ConfigurationError("send_mail needs at least one recipient")
    server = parse_smtp_url(smtp_url)

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    envelope_from = parseaddr(sender)[1]
    # An explicit domain keeps make_msgid from calling socket.getfqdn(), a resolver lookup.
    message["Message-ID"] = make_msgid(domain=envelope_from.rpartition("@")[2] or "localhost")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")

    _deliver(server, message, envelope_from, to)
    logger.info(
        "staff mail sent host=%s port=%d recipients=%d message_id=%s",
        server.host,
        server.port,
        len(to),
        message["Message-ID"],
    )


def _deliver(server: SmtpServer, message: EmailMessage, envelope_from: str, to: list[str]) -> None:
    # Building a TLS context loads the CA bundle, so only when the connection uses TLS.
    tls_context = ssl.create_default_context() if server.scheme in ("smtps", "smtp+starttls") else None
    client: smtplib.SMTP
    if server.scheme == "smtps":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=tls_context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)

    with client:
        if server.scheme == "smtp+starttls":
            client.starttls(context=tls_context)
        if server.username:
            client.login(server.username, server.password)
        client.send_message(message, from_addr=envelope_from, to_addrs=to)
