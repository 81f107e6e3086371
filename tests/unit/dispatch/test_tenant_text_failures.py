"""A tenant text that breaks the sandbox at send time: the product's text goes out, nothing crashes."""

from __future__ import annotations

import logging

import pytest

from bolletta.tenants.config import MessageTexts
from tests.unit.dispatch.test_message_language import config, render

RECURSIVE = "{% macro m(n) %}{{ m(n+1) }}{% endmacro %}{{ m(0) }}"


@pytest.mark.parametrize("texts", [
    MessageTexts(sms=RECURSIVE),
    MessageTexts(sms="{{ link.ljust(800000000) }}"),
    MessageTexts(email_subject=RECURSIVE, email_text="{{ link }}"),
    MessageTexts(email_subject="Bolletta", email_text="{{ link }}", email_html=RECURSIVE),
])
def test_broken_text_falls_back_to_product_text(texts: MessageTexts) -> None:
    kind = "sms" if texts.sms else "email"

    rendered = render(kind, config(it=texts), "it")

    assert "https://b.example/t/x" in rendered.text
    assert rendered.language == "it"


def test_escape_attempt_at_send_logged(caplog: pytest.LogCaptureFixture) -> None:
    texts = MessageTexts(sms="{{ cycler.__init__.__globals__ }} {{ link }}")

    with caplog.at_level(logging.WARNING, logger="bolletta.security"):
        rendered = render("sms", config(it=texts), "it")

    logged = [record.getMessage() for record in caplog.records if record.name == "bolletta.security"]
    assert "https://b.example/t/x" in rendered.text
    assert len(logged) == 1
    assert "message text it.sms rejected by the sandbox" in logged[0]
