"""Staff notification e-mails and the mail catcher."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bolletta.platform.errors import ConfigurationError
from bolletta.platform.mail.catcher import MailCatcher
from bolletta.platform.mail.sender import SmtpServer, parse_smtp_url, send_mail


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    with MailCatcher() as running:
        yield running


def test_send_mail_reaches_catcher(catcher: MailCatcher) -> None:
    send_mail(
        f"smtp://127.0.0.1:{catcher.port}",
        sender="Bolletta Smart <noreply@bolletta.localhost>",
        to=["operatore@acme.example", "responsabile@acme.example"],
        subject="Lavorazione 42 pronta per l'approvazione",
        text="La lavorazione 42 attende l'approvazione.",
        html="<p>La lavorazione 42 attende l'approvazione.</p>",
    )

    caught = catcher.wait_for(1)[0]
    assert caught.mail_from == "noreply@bolletta.localhost"
    assert caught.recipients == ("operatore@acme.example", "responsabile@acme.example")
    assert caught.message["Subject"] == "Lavorazione 42 pronta per l'approvazione"
    assert caught.message["From"] == "Bolletta Smart <noreply@bolletta.localhost>"
    assert caught.message["To"] == "operatore@acme.example, responsabile@acme.example"
    assert caught.message["Message-ID"].endswith("@bolletta.localhost>")
    assert caught.message.get_content_type() == "multipart/alternative"
    text_part = caught.message.get_body(preferencelist=("plain",))
    assert text_part is not None
    assert text_part.get_content() == "La lavorazione 42 attende l'approvazione.\n"


def test_send_mail_server_down_raises() -> None:
    stopped = MailCatcher()
    stopped.start()
    port = stopped.port
    stopped.stop()

    with pytest.raises(ConnectionRefusedError):
        send_mail(f"smtp://127.0.0.1:{port}", sender="a@b.example", to=["c@d.example"], subject="s", text="t")


def test_send_mail_without_recipients_raises() -> None:
    with pytest.raises(ConfigurationError, match="at least one recipient"):
        send_mail("smtp://127.0.0.1:1025", sender="a@b.example", to=[], subject="s", text="t")


def test_send_mail_auth_without_tls_fails(catcher: MailCatcher) -> None:
    # aiosmtpd offers no AUTH without TLS, so credentials on a plain connection fail loudly.
    with pytest.raises(smtplib.SMTPNotSupportedError):
        send_mail(
            f"smtp://user:pass@127.0.0.1:{catcher.port}",
            sender="a@b.example",
            to=["c@d.example"],
            subject="s",
            text="t",
        )

    assert catcher.messages == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:1025", SmtpServer(scheme="smtp", host="127.0.0.1", port=1025)),
        ("smtp://mail.acme.example", SmtpServer(scheme="smtp", host="mail.acme.example", port=25)),
        (
            "smtp+starttls://user%40acme.example:p%3As%2Fs@mail.acme.example",
            SmtpServer(
                scheme="smtp+starttls",
                host="mail.acme.example",
                port=587,
                username="user@acme.example",
                password="p:s/s",
            ),
        ),
        (
            "SMTPS://bot:secret@mail.acme.example:2465",
            SmtpServer(
                scheme="smtps", host="mail.acme.example", port=2465, username="bot", password="secret"
            ),
        ),
    ],
)
def test_parse_smtp_url(url: str, expected: SmtpServer) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.acme.example", "scheme 'http' is not supported"),
        ("smtp://:25", "has no host"),
        ("smtps://bot:hunter2@mail.acme.example:99999", "invalid port"),
    ],
)
def test_parse_smtp_url_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        parse_smtp_url(url)

    assert "hunter2" not in str(raised.value)


def test_smtp_server_repr_hides_password() -> None:
    assert "hunter2" not in repr(parse_smtp_url("smtps://bot:hunter2@mail.acme.example"))


def test_catcher_wait_for_times_out(catcher: MailCatcher) -> None:
    with pytest.raises(TimeoutError, match=r"received 0 of 1 expected messages within 0\.2 seconds"):
        catcher.wait_for(1, timeout=0.2)


def test_catcher_reports_chosen_port() -> None:
    catcher = MailCatcher()
    assert catcher.port == 0

    with catcher:
        chosen = catcher.port
        with smtplib.SMTP("127.0.0.1", chosen, timeout=5) as client:
            code, _ = client.noop()

    assert chosen > 0
    assert code == 250


def test_catcher_start_twice_raises(catcher: MailCatcher) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        catcher.start()


def send_one(catcher: MailCatcher, subject: str) -> None:
    send_mail(f"smtp://127.0.0.1:{catcher.port}", sender="noreply@bolletta.localhost",
              to=["operatore@acme.example"], subject=subject, text=subject)


def test_catcher_restart_keeps_stored_mail(tmp_path: Path) -> None:
    (tmp_path / "notes.eml").write_bytes(b"not numbered")  # a name that is not a number is ignored
    with MailCatcher(store_dir=tmp_path) as first:
        send_one(first, "prima")
        send_one(first, "seconda")
        first.wait_for(2)
    with MailCatcher(store_dir=tmp_path) as second:
        send_one(second, "terza")
        second.wait_for(1)

    stored = {path.name: path.read_bytes() for path in tmp_path.glob("*.eml")}
    assert sorted(stored) == ["1.eml", "2.eml", "3.eml", "notes.eml"]
    assert b"Subject: prima" in stored["1.eml"]
    assert b"Subject: seconda" in stored["2.eml"]
    assert b"Subject: terza" in stored["3.eml"]


def test_catchers_sharing_a_folder_skip_taken_numbers(tmp_path: Path) -> None:
    with MailCatcher(store_dir=tmp_path) as first, MailCatcher(store_dir=tmp_path) as second:
        send_one(first, "dal primo")
        first.wait_for(1)
        send_one(second, "dal secondo")
        second.wait_for(1)

    stored = {path.name: path.read_bytes() for path in tmp_path.glob("*.eml")}
    assert sorted(stored) == ["1.eml", "2.eml"]
    assert b"Subject: dal primo" in stored["1.eml"]
    assert b"Subject: dal secondo" in stored["2.eml"]
