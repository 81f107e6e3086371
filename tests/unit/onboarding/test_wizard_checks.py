"""Checks of the wizard's message step: WhatsApp template mappings and uploaded images."""

from __future__ import annotations

import pytest

from bolletta.platform.i18n.message import render
from bolletta.tenants.config import QuietHours, WhatsappTemplate
from bolletta.tenants.images import MAX_IMAGE_BYTES, image_type
from bolletta.tenants.onboarding import steps
from bolletta.tenants.onboarding.checks import (
    look_problems,
    quiet_hours_problems,
    recipient_problem,
    retention_problems,
    voice_problems,
    whatsapp_template_problems,
)
from bolletta.tenants.onboarding.line_numbers import typed_line_numbers
from bolletta.tenants.onboarding.previews import look_preview, message_previews, preview_css
from tests.fakes.images import image_bytes, png_header

PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")


def test_template_with_link_button_passes() -> None:
    template = WhatsappTemplate(name="bolletta_pronta", language_code="it",
                                body_parameters=["utility", "document_number", "due_date"], url_button=True)
    assert whatsapp_template_problems("it", template) == {}


def test_template_with_link_parameter_passes() -> None:
    template = WhatsappTemplate(name="bill_ready", language_code="en_US", body_parameters=["due_date", "link"])
    assert whatsapp_template_problems("en", template) == {}


@pytest.mark.parametrize(("template", "field", "words"), [
    (WhatsappTemplate(name="Bolletta Pronta", language_code="it", url_button=True), "name", "Bolletta Pronta"),
    (WhatsappTemplate(name="", language_code="it", url_button=True), "name", "Scrivi il nome"),
    (WhatsappTemplate(name="bolletta", language_code="italiano", url_button=True), "language_code", "italiano"),
    (WhatsappTemplate(name="bolletta", language_code="it", category="MARKETING", url_button=True), "category",
     "UTILITY"),
    (WhatsappTemplate(name="bolletta", language_code="it", body_parameters=["customer_name"], url_button=True),
     "body_parameters", "customer_name"),
    (WhatsappTemplate(name="bolletta", language_code="it", body_parameters=["utility"]), "body_parameters", "link"),
])
def test_bad_template_named_next_to_field(template: WhatsappTemplate, field: str, words: str) -> None:
    problems = whatsapp_template_problems("it", template)

    assert list(problems) == [f"whatsapp_templates.it.{field}"]
    assert words in render(problems[f"whatsapp_templates.it.{field}"], "it")


def test_template_of_unknown_language_rejected() -> None:
    problems = whatsapp_template_problems("xx", WhatsappTemplate(name="b", language_code="it", url_button=True))
    assert "xx" in render(problems["whatsapp_templates.xx.name"], "it")


@pytest.mark.parametrize(("data", "content_type"), [(PNG, "image/png"), (JPEG, "image/jpeg")])
def test_image_type_read_from_bytes(data: bytes, content_type: str) -> None:
    assert image_type(data) == (content_type, None)


def test_image_of_other_format_rejected() -> None:
    _, problem = image_type(b"GIF89a" + b"\x00" * 16)
    assert problem is not None
    assert "PNG" in render(problem, "it")


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
@pytest.mark.parametrize("kept", [40, 0.5])
def test_truncated_image_rejected(image_format: str, kept: float) -> None:
    data = image_bytes(image_format, (200, 120))
    cut = int(kept) if kept >= 1 else int(len(data) * kept)

    _, problem = image_type(data[:cut])

    assert problem is not None
    assert f"non è un'immagine {image_format} completa" in render(problem, "it")


def test_huge_dimensions_rejected_before_decoding() -> None:
    _, problem = image_type(png_header(40000, 40000))

    assert problem is not None
    assert render(problem, "it").startswith("L'immagine è di 40000×40000 pixel; il limite è 2000×2000 pixel.")


def test_pixel_count_limited() -> None:
    _, problem = image_type(png_header(1999, 1999))

    assert problem is not None
    assert "1999×1999" in render(problem, "it")


def test_image_size_has_decimal_comma() -> None:
    _, problem = image_type(b"\x00" * 300_000, "it")

    assert problem is not None
    assert render(problem, "it") == "L'immagine è di 293,0 KB; il limite è 200,0 KB."


def test_image_over_limit_rejected() -> None:
    _, problem = image_type(PNG + b"\x00" * MAX_IMAGE_BYTES)
    assert problem is not None
    assert str(MAX_IMAGE_BYTES // 1024) in render(problem, "it")


def test_look_preview_follows_order_and_colours() -> None:
    look = steps.Look(branding=steps.Branding(display_name="Acqua Chiara", primary_color="#123456",
                                              accent_color="not-a-colour"),
                      section_order=["consumi", "sommario"], hidden_sections=["dati", "sommario"],
                      logo=steps.UploadedImage(content_type="image/png", data=PNG))

    preview = look_preview(look)
    css = preview_css(preview)

    assert preview.tabs == ["Consumption", "Summary", "Amounts"]
    assert preview.logo.startswith("data:image/png;base64,")
    assert "--brand:#123456" in css
    assert "--brand-accent:#f2a900" in css


def test_message_preview_counts_rendered_sms() -> None:
    messages = steps.Messages(texts={"it": {"sms": "{{ utility }}: bolletta {{ document_number }} {{ link }}",
                                            "email_subject": "{{ customer_nome }}"}},
                              whatsapp_templates={"it": WhatsappTemplate(name="b", language_code="it",
                                                                         body_parameters=["due_date"],
                                                                         url_button=True)})

    previews = message_previews(messages)

    sms, subject = previews.items
    assert sms.text.startswith("ACME Energia: bolletta 2026/A/000123 https://")
    assert sms.sms is not None
    assert sms.sms.parts == 1
    assert sms.sms.characters == len(sms.text)
    assert subject.problem is not None
    [template] = previews.templates
    assert template.parameters == [("due_date", "31/12/2026")]
    assert template.button_suffix == "AbCdEfGhIjKlMnOpQrStUv"


def test_installed_voice_of_language_passes() -> None:
    assert voice_problems({"it": "it_IT-paola-medium"}, ["it_IT-paola-medium", "en_US-joe-medium"]) == {}


def test_voice_not_installed_or_other_language() -> None:
    problems = voice_problems({"de": "de_DE-thorsten-medium", "en": "it_IT-paola-medium"}, ["it_IT-paola-medium"])

    assert "bolletta voices install" in render(problems["voices.de"], "it")
    assert "it_IT-paola-medium" in render(problems["voices.en"], "it")


@pytest.mark.parametrize(("changes", "field"), [
    ({"bill_months": 0}, "bill_months"), ({"event_months": 121}, "event_months"), ({"audit_years": 9}, "audit_years"),
])
def test_retention_outside_limits(changes: dict[str, int], field: str) -> None:
    problems = retention_problems(steps.Retention(**changes))

    assert list(problems) == [f"retention.{field}"]
    assert str(next(iter(changes.values()))) in render(problems[f"retention.{field}"], "it")


def test_retention_limits_match_settings() -> None:
    assert retention_problems(steps.Retention(bill_months=120, event_months=1, audit_years=30)) == {}


def test_look_preview_loads_shipped_font() -> None:
    preview = look_preview(steps.Look(font="source-sans"))

    css = preview_css(preview)

    assert '@font-face{font-family:"Source Sans Pro";src:url("/admin/onboarding/fonts/source-sans.woff2")' in css
    assert 'font-family:"Source Sans Pro",system-ui' in css


def test_look_preview_unknown_font_is_system() -> None:
    preview = look_preview(steps.Look(font="comic"))

    assert preview.font_id == "system"
    assert "@font-face" not in preview_css(preview)


def test_template_category_any_case() -> None:
    template = WhatsappTemplate(name="bolletta_pronta", language_code="it", category=" utility ", url_button=True)

    assert template.category == "UTILITY"
    assert whatsapp_template_problems("it", template) == {}


def test_summary_cannot_be_hidden() -> None:
    problems = look_problems(steps.Look(hidden_sections=["sommario"]), None, None)  # type: ignore[arg-type]

    assert render(problems["hidden_sections"], "it") == "La sezione di riepilogo non si può nascondere."


@pytest.mark.parametrize(("quiet", "field", "words"), [
    (QuietHours(start="21:00", end="21:00"), "quiet_hours.end", "21:00"),
    (QuietHours(kinds=["sms", "whatsapp", "sms"]), "quiet_hours.kinds", "sms compare più di una volta"),
])
def test_quiet_hours_rejected(quiet: QuietHours, field: str, words: str) -> None:
    problems = quiet_hours_problems(quiet)

    assert list(problems) == [field]
    assert words in render(problems[field], "it")


def test_quiet_hours_default_pass() -> None:
    assert quiet_hours_problems(QuietHours()) == {}


def test_line_numbers_count_blank_lines() -> None:
    typed = {"test_recipients": "email a@acme.example\n\n  \nsms 123\nsms +39 333 1234567"}

    renumbered = typed_line_numbers({"test_recipients.2": "bad", "other.1": "kept"}, typed)

    assert renumbered == {"test_recipients.4": "bad", "other.1": "kept"}


def test_recipient_problem_masks_number() -> None:
    problem = recipient_problem("sms", "+39 347 1234 5678 9")

    assert problem is not None
    assert render(problem, "en") == "+39 347 ••• ••89 is not a mobile number, such as +39 333 1234567."
    assert recipient_problem("sms", "+39 347 1234567") is None
    assert recipient_problem("whatsapp", "3471234567") is None
