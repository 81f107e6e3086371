"""Sample renders the wizard shows beside the branding and message steps.

Both previews use made-up bill data (:data:`SAMPLE_BILL` and the check's sample fields), never a
real customer's, and render message texts in the same sandbox and with the same fields as dispatch.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from jinja2 import TemplateError

from bolletta.channels.sms import SmsLength, measure
from bolletta.platform.i18n.message import Text
from bolletta.platform.portal.sections import SECTION_TITLES, SECTIONS
from bolletta.tenants.onboarding import steps
from bolletta.tenants.onboarding.checks import EMAIL_SAMPLE_FIELDS, SAMPLE_FIELDS
from bolletta.themes.fonts import FONTS, UNICODE_RANGE

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")
SAMPLE_BILL = {"amount_due": "84,20 €", "due_date": "31/12/2026", "consumption": "312 kWh",
               "document_number": SAMPLE_FIELDS["document_number"]}
"""Made-up values of the sample bill the branding preview shows."""
DEFAULT_COLOURS = {"primary_color": "#0b4f8a", "accent_color": "#f2a900", "text_on_primary": "#ffffff"}


@dataclass(frozen=True)
class LookPreview:
    """The sample bill's summary page as the draft's branding and layout make it look."""

    display_name: str
    tabs: list[str]
    """English msgids of the visible section titles, in the tenant's order."""
    colours: dict[str, str]
    """``primary_color``, ``accent_color`` and ``text_on_primary``; an invalid value falls back to the default."""
    font_family: str
    font_id: str = "system"
    """A key of :data:`bolletta.themes.fonts.FONTS`; ``system`` when the draft's font is unknown."""
    logo: str = ""
    """The uploaded logo as a ``data:`` URI (the console's CSP allows those), or empty."""


def look_preview(look: steps.Look, legal_name: str = "") -> LookPreview:
    """Return the branding preview of the draft's ``look`` values.

    Without a display name the preview shows ``legal_name``, as the pages do, and a sample name only
    while the company step has none either.
    """
    order = [slug for slug in look.section_order if slug in SECTIONS]
    order += [slug for slug in SECTIONS if slug not in order]
    visible = [slug for slug in order if slug == "sommario" or slug not in look.hidden_sections]
    branding = look.branding
    colours = {name: value if HEX_COLOUR.match(value := getattr(branding, name)) else fallback
               for name, fallback in DEFAULT_COLOURS.items()}
    font_id = look.font if look.font in FONTS else "system"
    font = FONTS[font_id]
    logo = ""
    if look.logo is not None:
        logo = f"data:{look.logo.content_type};base64,{base64.b64encode(look.logo.data).decode()}"
    return LookPreview(display_name=branding.display_name or legal_name or "ACME Energia",
                       tabs=[SECTION_TITLES[slug] for slug in visible], colours=colours,
                       font_family=font.family, font_id=font_id, logo=logo)


def preview_css(preview: LookPreview) -> str:
    """Return the stylesheet that gives the ``.look-preview`` box the draft's colours and font.

    The console's CSP forbids inline styles, so the colours travel in a stylesheet. A font shipped
    as a package is loaded from the console's own font route, as the bill pages load it.
    """
    colours = preview.colours
    family = preview.font_family.replace('"', "")
    css = ""
    if FONTS[preview.font_id].package is not None:
        css += (f'@font-face{{font-family:"{family}";src:url("/admin/onboarding/fonts/{preview.font_id}.woff2") '
                f'format("woff2");font-display:swap;unicode-range:{UNICODE_RANGE};}}\n')
    return css + (f".look-preview{{--brand:{colours['primary_color']};--brand-accent:{colours['accent_color']};"
                  f"--on-brand:{colours['text_on_primary']};"
                  f'font-family:"{family}",system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;}}\n')


@dataclass
class MessagePreview:
    """One message part of one language rendered with the sample fields, or why it does not render."""

    language: str
    part: str
    text: str = ""
    problem: Text | None = None
    sms: SmsLength | None = None
    """Length, encoding and parts, for the SMS part only."""


@dataclass(frozen=True)
class TemplatePreview:
    """One language's approved WhatsApp template with the sample value of each parameter."""

    language: str
    name: str
    language_code: str
    parameters: list[tuple[str, str]]
    """``(bill field, sample value)`` of ``{{1}}``, ``{{2}}``... in order."""
    button_suffix: str
    """The URL button's suffix (the sample link's token), or empty without a button."""


@dataclass
class MessagePreviews:
    """Every part the draft has a text for, in language then part order, and the WhatsApp templates."""

    items: list[MessagePreview] = field(default_factory=list)
    templates: list[TemplatePreview] = field(default_factory=list)


def message_previews(messages: steps.Messages, link: str = str(SAMPLE_FIELDS["link"]),
                     utility: str = str(SAMPLE_FIELDS["utility"])) -> MessagePreviews:
    """Render each non-empty text of ``messages`` in the sandbox with the sample fields.

    E-mail HTML is shown cleaned, as it would be sent.

    ``link`` and ``utility`` replace the sample link and name, so the preview shows the draft's own.
    """
    from bolletta.platform.dispatch.rendering import MAX_TEXT_CHARS
    from bolletta.themes.email_html import clean_email_html
    from bolletta.themes.sandbox import render_text
    from bolletta.themes.template_problems import template_problem

    previews = MessagePreviews()
    for language, texts in messages.texts.items():
        for part, source in texts.items():
            if not source.strip():
                continue
            fields = (EMAIL_SAMPLE_FIELDS if part.startswith("email") else SAMPLE_FIELDS) | {"link": link,
                                                                                             "utility": utility}
            item = MessagePreview(language=language, part=part)
            try:
                item.text = render_text(source, fields, autoescape=part == "email_html", strict=True,
                                        max_chars=MAX_TEXT_CHARS).strip()
            except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as exc:
                item.problem = template_problem(exc, fields)
            if part == "email_html" and item.problem is None:
                item.text = clean_email_html(item.text)
            if part == "sms" and item.problem is None:
                item.sms = measure(item.text)
            previews.items.append(item)
    for language, template in messages.whatsapp_templates.items():
        values = {**SAMPLE_FIELDS, "link": link, "utility": utility}
        previews.templates.append(TemplatePreview(
            language=language, name=template.name, language_code=template.language_code,
            parameters=[(name, str(values.get(name, ""))) for name in template.body_parameters],
            button_suffix=link.rsplit("/", 1)[-1] if template.url_button else ""))
    return previews
