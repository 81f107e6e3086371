"""Test messages of the wizard: marked as tests, with the draft's own link."""

from __future__ import annotations

from bolletta.tenants.onboarding import steps
from bolletta.tenants.onboarding.drafts import Draft
from bolletta.tenants.onboarding.previews import look_preview, message_previews
from bolletta.tenants.onboarding.trial import TEST_MARKER, sample_message

LINK = "https://bolletta.zeta.example/t/AbCdEfGhIjKlMnOpQrStUv"


def _draft(sms_text: str) -> Draft:
    answers = {name: struct() for name, struct in steps.STEPS.items()}
    answers["company"] = steps.Company(legal_name="Zeta Gas S.r.l.", slug="zeta")
    answers["messages"] = steps.Messages(texts={"it": {"sms": sms_text}})
    return Draft(id=7, answers=answers, completed=[], activated_slug=None)


def test_custom_sms_gets_test_marker() -> None:
    message = sample_message(_draft("Bolletta {{ document_number }}: {{ link }}"), "sms", "+393330000001", LINK)

    assert message.text.startswith(TEST_MARKER)
    assert message.text.endswith(LINK)
    assert message.link == LINK


def test_product_sms_keeps_its_one_marker() -> None:
    message = sample_message(_draft(""), "sms", "+393330000001", LINK)

    assert message.text.startswith("[TEST] ")
    assert TEST_MARKER not in message.text


def test_previews_use_draft_link_and_name() -> None:
    previews = message_previews(steps.Messages(texts={"it": {"sms": "{{ utility }} {{ link }}"}}), LINK, "Zeta")
    look = look_preview(steps.Look(), "Zeta Gas S.r.l.")

    assert previews.items[0].text == f"Zeta {LINK}"
    assert look.display_name == "Zeta Gas S.r.l."
