"""What a failed provisioning step leaves in the server log: the error, without secrets or addresses."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bolletta.platform.i18n.message import render
from bolletta.tenants.provisioning_errors import ProvisioningFailed, failure_reason, log_failure, loggable


def test_url_password_hidden() -> None:
    error = OSError("cannot reach smtps://notifiche:segreto-42@smtp.example.it:465 now")

    logged = loggable(error)

    assert "segreto-42" not in logged
    assert logged == "OSError: cannot reach smtps://notifiche:***@smtp.example.it:465 now"


def test_conninfo_password_hidden() -> None:
    logged = loggable(RuntimeError("connect failed: host=db password='p a s s' user=bolletta"))

    assert "p a s s" not in logged
    assert "password=***" in logged


def test_email_address_hidden() -> None:
    logged = loggable(OSError("550 mailbox mario.rossi+test@acme-energia.example unknown"))

    assert "mario.rossi" not in logged
    assert logged == "OSError: 550 mailbox *** unknown"


def test_statement_parameters_left_out() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as connection, pytest.raises(OperationalError) as caught:
        connection.execute(text("INSERT INTO missing_table (secret) VALUES (:secret)"), {"secret": "sigillo-99"})

    assert "sigillo-99" in str(caught.value)  # what SQLAlchemy's own message would have leaked
    logged = loggable(caught.value)
    assert "sigillo-99" not in logged
    assert logged == "OperationalError: no such table: missing_table"


def test_log_failure_has_stack_without_values(caplog: pytest.LogCaptureFixture) -> None:
    def connect() -> None:
        secret = "chiave-77"
        raise sqlite3.OperationalError(f"unable to open database file with password={secret} given")

    try:
        connect()
    except sqlite3.OperationalError as exc:
        with caplog.at_level(logging.ERROR):
            log_failure(logging.getLogger("test"), "provisioning tenant acme", exc)

    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith(
        "provisioning tenant acme failed: OperationalError: unable to open database file with password=*** given\n")
    assert "in connect" in record.getMessage()
    assert "chiave-77" not in record.getMessage()


@pytest.mark.parametrize(("part", "setting"), [
    ("tenant", "BOLLETTA_DATABASE_URL"), ("storage", "BOLLETTA_STORAGE_URL"), ("invitation", "BOLLETTA_SMTP_URL")])
def test_reason_names_setting_in_both_languages(part: str, setting: str) -> None:
    reason = failure_reason(part)

    assert setting in render(reason, "it")
    assert setting in render(reason, "en")
    assert render(reason, "it") != render(reason, "en")


def test_sqlite_reason_names_folder() -> None:
    reason = failure_reason("tenant", sqlite_folder=Path("/srv/bolletta/tenants"))

    assert "/srv/bolletta/tenants" in render(reason, "it")
    assert render(reason, "it").startswith("Non è stato possibile creare il file di database")


def test_failure_message_is_english_reason() -> None:
    failure = ProvisioningFailed("admin", failure_reason("admin"))

    assert str(failure) == render(failure_reason("admin"), "en")
    assert failure.part == "admin"
