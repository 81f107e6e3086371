"""SMTP channel against real aiosmtpd servers on loopback."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bolletta.channels.base import ChannelContext, OutgoingMessage
from bolletta.channels.errors import ChannelUnavailable
from bolletta.channels.smtp import SmtpChannel, SmtpSettings
from bolletta.platform.mail.catcher import MailCatcher

RECIPIENT = "mario.rossi@example.com"
KEY = "acme:ticket-1:message-1"


class RejectingServer(MailCatcher):
    """Mail catcher that returns a fixed reply to every RCPT TO."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        return self.reply


def _channel(port: int) -> SmtpChannel:
    settings = SmtpSettings(
        host="127.0.0.1",
        port=port,
        from_address="bollette@acme.example",
        reply_to="assistenza@acme.example",
        timeout_seconds=5,
    )
    return SmtpChannel(settings, ChannelContext(tenant_slug="acme"))


def _message(key: str = KEY, sender: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        kind="email",
        to=RECIPIENT,
        subject="La tua bolletta di marzo",
        text="Gentile cliente, la tua bolletta è pronta.",
        html="<p>Gentile cliente, la tua bolletta è <b>pronta</b>.</p>",
        idempotency_key=key,
        sender=sender,
        tenant_slug="acme",
    )


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    with MailCatcher(store_dir=tmp_path / "mail") as running:
        yield running


def test_multipart_message_received(catcher: MailCatcher, tmp_path: Path) -> None:
    result = _channel(catcher.port).send(_message())

    caught = catcher.wait_for(1)[0]
    message = caught.message
    assert isinstance(message, EmailMessage)
    assert result.status == "sent"
    assert result.error is None
    assert caught.mail_from == "bollette@acme.example"
    assert caught.recipients == (RECIPIENT,)
    assert message["Subject"] == "La tua bolletta di marzo"
    assert message["To"] == RECIPIENT
    assert message["From"] == "bollette@acme.example"
    assert message["Reply-To"] == "assistenza@acme.example"
    assert message.get_content_type() == "multipart/alternative"
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None
    assert html_part is not None
    assert text_part.get_content() == "Gentile cliente, la tua bolletta è pronta.\n"
    assert html_part.get_content() == "<p>Gentile cliente, la tua bolletta è <b>pronta</b>.</p>\n"
    assert (tmp_path / "mail" / "1.eml").read_bytes() == caught.raw


def test_message_id_derived_from_key(catcher: MailCatcher) -> None:
    channel = _channel(catcher.port)

    first = channel.send(_message())
    retry = channel.send(_message())
    other = channel.send(_message(key="acme:ticket-1:message-2"))

    caught = catcher.wait_for(3)
    expected = "<" + hashlib.sha256(KEY.encode()).hexdigest()[:32] + "@acme.example>"
    assert first.provider_message_id == expected
    assert retry.provider_message_id == expected
    assert other.provider_message_id != expected
    assert [mail.message["Message-ID"] for mail in caught] == [
        expected,
        expected,
        other.provider_message_id,
    ]


def test_sender_alias_becomes_display_name(catcher: MailCatcher) -> None:
    _channel(catcher.port).send(_message(sender="ACME Energia"))

    caught = catcher.wait_for(1)[0]
    assert caught.message["From"] == "ACME Energia <bollette@acme.example>"
    assert caught.mail_from == "bollette@acme.example"


def test_text_only_message_not_multipart(catcher: MailCatcher) -> None:
    message = OutgoingMessage(
        kind="email", to=RECIPIENT, subject="Avviso", text="Solo testo", idempotency_key=KEY
    )

    _channel(catcher.port).send(message)

    caught = catcher.wait_for(1)[0]
    assert caught.message.get_content_type() == "text/plain"
    assert caught.message.get_content() == "Solo testo\n"


def test_permanent_recipient_error_rejected() -> None:
    with RejectingServer(f"550 5.1.1 <{RECIPIENT}>: mailbox unavailable") as server:
        result = _channel(server.port).send(_message())

        assert server.messages == []

    assert result.status == "rejected"
    assert result.provider_message_id is None
    assert result.error is not None
    assert result.error.startswith("SMTP 550 (recipient rejected):")
    assert "mailbox unavailable" in result.error
    assert RECIPIENT not in result.error


def test_temporary_recipient_error_unavailable() -> None:
    with RejectingServer("450 4.2.1 mailbox busy, try later") as server:
        with pytest.raises(ChannelUnavailable, match="temporary failure code 450"):
            _channel(server.port).send(_message())

        assert server.messages == []


def test_server_down_unavailable() -> None:
    stopped = MailCatcher()
    stopped.start()
    port = stopped.port
    stopped.stop()

    with pytest.raises(ChannelUnavailable, match=f"127.0.0.1:{port} failed") as raised:
        _channel(port).send(_message())

    assert isinstance(raised.value.__cause__, ConnectionRefusedError)


def test_non_email_kind_rejected(catcher: MailCatcher) -> None:
    sms = OutgoingMessage(kind="sms", to="+393331234567", text="x", idempotency_key=KEY)

    result = _channel(catcher.port).send(sms)

    assert result.status == "rejected"
    assert result.error == "channel 'smtp' cannot send 'sms'"
    assert catcher.messages == []
