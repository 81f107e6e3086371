"""SMTP channel: sends e-mail messages through one SMTP server with the standard library."""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formataddr, formatdate, parseaddr
from typing import Annotated, ClassVar, Literal

import msgspec

from bolletta.channels.base import CONTRACT_VERSION, Capabilities, Channel, OutgoingMessage, SendResult
from bolletta.channels.errors import ChannelUnavailable

logger = logging.getLogger(__name__)

# Servers often echo the recipient in their rejection text ("<bob@example.com>: mailbox unavailable");
# the text ends up in SendResult.error, which must not hold personal data.
_ADDRESS_PATTERN = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")
_MAX_ERROR_TEXT = 200

_URL_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
_MAX_HEADER_LINE = 998
"""Maximum length of a header line in octets, CRLF excluded (RFC 5322 section 2.1.1)."""


class _MailPolicy(EmailPolicy):
    """The default policy, except that an ASCII ``List-Unsubscribe`` header is written as it is.

    The default policy folds headers at 78 characters and RFC 2047-encodes a value with a word it
    cannot fold, such as the long unsubscribe URL, and mail clients then cannot read the URL.
    """

    def _plain_line(self, name: str, value: str) -> str | None:
        line = f"{name}: {value}"
        if name.lower() in _URL_HEADERS and value.isascii() and len(line) <= _MAX_HEADER_LINE:
            return line + self.linesep
        return None

    def fold(self, name: str, value: str) -> str:
        return self._plain_line(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        line = self._plain_line(name, value)
        return line.encode("ascii") if line is not None else super().fold_binary(name, value)


MAIL_POLICY = _MailPolicy()


class SmtpSettings(msgspec.Struct, kw_only=True, frozen=True):
    """Per-tenant settings of the SMTP channel."""

    host: str = "127.0.0.1"
    """Host name or address of the SMTP server."""

    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 25
    """TCP port: usually 25 (``none``), 587 (``starttls``) or 465 (``tls``)."""

    security: Literal["none", "starttls", "tls"] = "none"
    """``none`` sends in clear text, ``starttls`` upgrades the connection after EHLO, ``tls`` opens
    a TLS connection from the start. Both TLS modes verify the server certificate."""

    username: str = ""
    """Login name; empty means the server is used without authentication."""

    password: str = ""
    """Login password (secret)."""

    from_address: str
    """Envelope sender and default ``From`` address, for example ``bollette@example.com``."""

    reply_to: str = ""
    """Default ``Reply-To`` address; empty means no ``Reply-To`` header unless the message sets one."""

    timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 30
    """Timeout in seconds of the connection and of each SMTP command."""

    ca_file: str = ""
    """Path of a PEM CA bundle used to verify the server certificate; empty means the system store."""

    dkim_domain: str = ""
    """Domain of the DKIM signature (``d=``); empty means messages are not signed."""

    dkim_selector: str = ""
    """DKIM selector (``s=``): the key is published at ``<selector>._domainkey.<domain>``."""

    dkim_private_key: str = ""
    """PEM private key (RSA 2048 recommended, or Ed25519) that signs the messages (secret)."""


class SmtpChannel(Channel):
    """Channel that hands e-mail messages to an SMTP server as multipart text and HTML."""

    id: ClassVar[str] = "smtp"
    name: ClassVar[str] = "E-mail (SMTP)"
    version: ClassVar[str] = "1.0.0"
    capabilities: ClassVar[Capabilities] = Capabilities(kinds=frozenset({"email"}))
    contract_version: ClassVar[int] = CONTRACT_VERSION
    Settings: ClassVar[type[msgspec.Struct]] = SmtpSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"password", "dkim_private_key"})

    settings: SmtpSettings

    def send(self, message: OutgoingMessage) -> SendResult:
        """Hand the message to the SMTP server.

        Returns status ``'sent'`` with the ``Message-ID`` header as ``provider_message_id`` when
        the server accepts the message, and ``'rejected'`` with the SMTP code when it replies with a 5xx code.

        Raises:
            ChannelUnavailable: the server is unreachable, timed out, closed the connection or
                replied with a 4xx code.
        """
        if message.kind != "email":
            return SendResult(status="rejected", error=f"channel 'smtp' cannot send {message.kind!r}")
        if not message.subject:
            return SendResult(status="rejected", error="e-mail message has no subject")

        email_message = self.compose(message)
        message_id = str(email_message["Message-ID"])
        try:
            self._deliver(self.sign(email_message), message.to)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return self._result_for_error_reply(code, text, "recipient rejected")
        except smtplib.SMTPAuthenticationError as exc:
            return self._result_for_error_reply(exc.smtp_code, exc.smtp_error, "authentication failed")
        except smtplib.SMTPNotSupportedError as exc:
            self._log_rejection("server lacks a required extension")
            return SendResult(status="rejected", error=f"SMTP server lacks a required extension: {exc}")
        except smtplib.SMTPResponseException as exc:
            return self._result_for_error_reply(exc.smtp_code, exc.smtp_error, "command rejected")
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelUnavailable(
                f"SMTP server {self.settings.host}:{self.settings.port} failed: {type(exc).__name__}: {exc}"
            ) from exc

        logger.info("smtp message accepted tenant=%s message_id=%s", self.context.tenant_slug, message_id)
        return SendResult(status="sent", provider_message_id=message_id)

    def compose(self, message: OutgoingMessage) -> EmailMessage:
        """Build the MIME message: a text part, plus an HTML alternative when ``message.html`` is set.

        A ``message.sender`` with an ``@`` replaces the ``From`` header. Without one it becomes the
        display name in front of ``from_address``. The envelope sender is always ``from_address``.
        """
        from_address = parseaddr(self.settings.from_address)[1]
        email_message = EmailMessage(policy=MAIL_POLICY)
        email_message["Subject"] = message.subject or ""
        if message.sender and "@" in message.sender:
            email_message["From"] = message.sender
        elif message.sender:
            email_message["From"] = formataddr((message.sender, from_address))
        else:
            email_message["From"] = self.settings.from_address
        email_message["To"] = message.to
        reply_to = message.reply_to or self.settings.reply_to
        if reply_to:
            email_message["Reply-To"] = reply_to
        email_message["Date"] = formatdate(usegmt=True)
        email_message["Message-ID"] = message_id_for(message.idempotency_key, from_address)

        for name, value in message.headers.items():
            # Header values come from the platform (List-Unsubscribe); a line break would inject headers.
            if "\n" in value or "\r" in value:
                raise ValueError(f"header {name!r} contains a line break")
            email_message[name] = value

        email_message.set_content(message.text)
        if message.html is not None:
            email_message.add_alternative(message.html, subtype="html")
            if message.inline_images:
                html_part = email_message.get_payload()[-1]  # type: ignore[index]
                assert isinstance(html_part, EmailMessage)
                for image in message.inline_images:
                    maintype, _, subtype = image.content_type.partition("/")
                    html_part.add_related(image.data, maintype=maintype, subtype=subtype,
                                          cid=f"<{image.content_id}>", filename=image.filename)
        for attachment in message.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            email_message.add_attachment(attachment.data, maintype=maintype, subtype=subtype,
                                         filename=attachment.filename)
        return email_message

    def sign(self, email_message: EmailMessage) -> bytes:
        """Return the message as bytes, with a ``DKIM-Signature`` when the settings hold a key.

        The signature covers ``From``, ``To``, ``Subject``, ``Date``, ``Message-ID``, ``Reply-To`` and
        the ``List-Unsubscribe`` headers, so receivers honour one-click unsubscribe (RFC 8058).
        """
        data = email_message.as_bytes(policy=email_message.policy.clone(linesep="\r\n"))
        settings = self.settings
        if not (settings.dkim_domain and settings.dkim_selector and settings.dkim_private_key):
            return data
        import dkim

        headers = [b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"mime-version",
                   b"content-type", b"list-unsubscribe", b"list-unsubscribe-post"]
        present = [name for name in headers if email_message[name.decode()] is not None]
        signature = dkim.sign(data, settings.dkim_selector.encode(), settings.dkim_domain.encode(),
                              settings.dkim_private_key.encode(), include_headers=present)
        return bytes(signature) + data

    def _deliver(self, data: bytes, recipient: str) -> None:
        with self._open() as client:
            envelope_from = parseaddr(self.settings.from_address)[1]
            client.sendmail(envelope_from, [recipient], data)

    def _open(self) -> smtplib.SMTP:
        """Connect, start TLS and log in as the settings specify; the caller closes the client."""
        settings = self.settings
        # Building a TLS context loads the CA bundle (a noticeable cost per message), so only when used.
        tls_context = None
        if settings.security != "none":
            tls_context = ssl.create_default_context(cafile=settings.ca_file or None)
        client: smtplib.SMTP
        if settings.security == "tls":
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_seconds, context=tls_context
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        try:
            if settings.security == "starttls":
                client.starttls(context=tls_context)
            if settings.username:
                client.login(settings.username, settings.password)
        except BaseException:
            client.close()
            raise
        return client

    def check_credentials(self) -> str | None:
        """Connect, start TLS and log in as a send would, then quit without sending anything."""
        try:
            with self._open() as client:
                client.noop()
        except smtplib.SMTPResponseException as exc:
            if not 500 <= exc.smtp_code < 600:
                raise ChannelUnavailable(f"SMTP server returned temporary failure code {exc.smtp_code}") from exc
            text = exc.smtp_error.decode("utf-8", errors="replace") if isinstance(exc.smtp_error, bytes) else str(
                exc.smtp_error)
            return f"SMTP {exc.smtp_code} {' '.join(text.split())[:_MAX_ERROR_TEXT]}"
        except smtplib.SMTPNotSupportedError as exc:
            return f"SMTP server lacks a required extension: {exc}"
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelUnavailable(
                f"SMTP server {self.settings.host}:{self.settings.port} failed: {type(exc).__name__}: {exc}"
            ) from exc
        return None

    def _result_for_error_reply(self, code: int, text: bytes | str, stage: str) -> SendResult:
        """Turn an SMTP error reply into a rejection (5xx) or raise for a temporary failure."""
        if not 500 <= code < 600:
            raise ChannelUnavailable(f"SMTP server returned temporary failure code {code} ({stage})")

        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        reason = _ADDRESS_PATTERN.sub("<address>", " ".join(text.split()))[:_MAX_ERROR_TEXT]
        self._log_rejection(f"{stage}, code {code}")
        return SendResult(status="rejected", error=f"SMTP {code} ({stage}): {reason}")

    def _log_rejection(self, reason: str) -> None:
        logger.warning("smtp message rejected tenant=%s reason=%s", self.context.tenant_slug, reason)


def message_id_for(idempotency_key: str, from_address: str) -> str:
    """Return the ``Message-ID`` for a message: the same key and sender always give the same id.

    The key is hashed so that ids inside it do not show up in mail headers.
    """
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    domain = from_address.rpartition("@")[2] or "localhost"
    return f"<{digest}@{domain}>"
