"""Message texts for each channel, in the customer's language when the tenant wrote texts for it.

SMS and WhatsApp texts get only non-personal fields (utility, service, document number, due date,
link); e-mail may also greet the customer by name and show the amount. The product's own texts
(``themes/base/messages``) are Italian; a tenant's texts (``TenantConfig.message_texts``) are
rendered in the immutable sandbox with the same fields, so they can reach nothing else. Every HTML
e-mail, the product's included, is cleaned by :func:`~bolletta.themes.email_html.clean_email_html`
after rendering, so what is sent never contains scripts, forms, remote images or unsafe links, whatever
the stored template holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from bolletta.channels.base import ProviderTemplate
from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.i18n import formatting
from bolletta.platform.i18n.catalog import gettext
from bolletta.platform.portal.language import DEFAULT_LANGUAGE, offered, primary_language
from bolletta.tenants.config import MessageTexts, TenantConfig
from bolletta.themes.email_html import clean_email_html
from bolletta.themes.sandbox import log_escape_attempt, render_text

logger = logging.getLogger(__name__)

EMAIL_HEADER_CID = "header-image@bolletta"
"""Content-ID of the tenant's e-mail header image; HTML refers to it as ``cid:header-image@bolletta``."""

MESSAGES_DIR = Path(__file__).resolve().parents[2] / "themes" / "base" / "messages"

SERVICE_LABELS = {"electricity": "luce", "gas": "gas", "water": "acqua"}
"""Services as the Italian texts name them."""

MAX_TEXT_CHARS = 100_000
"""Output limit of one tenant text; an e-mail's HTML is the largest."""


@lru_cache(maxsize=1024)
def day(value: date | None, language: str = DEFAULT_LANGUAGE) -> str:
    """Format a date as messages show it; cached, because Babel's pattern matching costs more than
    the rest of a message and a dispatch repeats the same few due dates."""
    return formatting.day(value, language)


def service_label(service: str, language: str) -> str:
    """Return the bill's service as a message in ``language`` names it."""
    if language == DEFAULT_LANGUAGE:
        return SERVICE_LABELS.get(service, service)
    return gettext(language, service.capitalize())


@dataclass(frozen=True)
class RenderedMessage:
    """Texts of one message, ready for a channel plugin, and the language they are written in."""

    text: str
    subject: str | None = None
    html: str | None = None
    language: str = DEFAULT_LANGUAGE


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(MESSAGES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def _has_texts(texts: MessageTexts | None, kind: str) -> bool:
    if texts is None:
        return False
    if kind == "email":
        return bool(texts.email_subject.strip() and texts.email_text.strip())
    return bool(getattr(texts, kind, "").strip())


def message_language(config: TenantConfig, customer_language: str | None, kind: str) -> str:
    """Return the language of a ``kind`` message to a customer whose language is ``customer_language``.

    The customer's language is used when the tenant offers it on the pages, opens pages in the
    customer's language, and wrote texts of that kind in it. Any other case gets Italian.
    """
    language = primary_language(customer_language)
    if (
        language != DEFAULT_LANGUAGE
        and config.portal.use_customer_language
        and language in offered(config.portal)
        and _has_texts(config.message_texts.get(language), kind)
    ):
        return language
    return DEFAULT_LANGUAGE


def render_message(
    kind: str, *, bill: Bill, config: TenantConfig, utility: str, link: str, expires_at: datetime,
    is_test: bool, customer_language: str | None = None,
) -> RenderedMessage:
    """Render the ``kind`` (``sms``, ``whatsapp`` or ``email``) message for ``bill``.

    A tenant text that fails to render (a syntax error, an unknown field, a broken limit) is logged
    and the message goes out with the product's Italian text instead.
    """
    language = message_language(config, customer_language, kind)
    fields = _fields(kind, bill, config, utility, link, expires_at, is_test, language)
    texts = config.message_texts.get(language)
    if _has_texts(texts, kind):
        assert texts is not None
        try:
            return _render_tenant(kind, texts, fields, language)
        except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as exc:
            logger.warning("%s: the tenant's %s text in %s failed to render, so bill %s gets the product's "
                           "Italian text; fix message_texts.%s: %s", fields["utility"], kind, language,
                           bill.document_number, language, exc)
            log_escape_attempt(str(fields["utility"]), f"message text {language}.{kind}", exc)
            if language != DEFAULT_LANGUAGE:
                fields = _fields(kind, bill, config, utility, link, expires_at, is_test, DEFAULT_LANGUAGE)
    return _render_base(kind, fields)


def template_params(bill: Bill, config: TenantConfig, utility: str, language: str) -> dict[str, str]:
    """Return the non-personal fields a provider-side template (WhatsApp) fills, in ``language``."""
    return {
        "utility": config.branding.display_name or utility,
        "service_label": service_label(bill.service, language),
        "document_number": bill.document_number,
        "due_date": day(bill.due_date, language),
    }


def provider_template(config: TenantConfig, kind: str, language: str) -> ProviderTemplate | None:
    """Return the tenant's approved WhatsApp template for ``language`` (else its Italian one), or ``None``."""
    if kind != "whatsapp":
        return None
    chosen = config.whatsapp_templates.get(language) or config.whatsapp_templates.get(DEFAULT_LANGUAGE)
    if chosen is None or not chosen.name:
        return None
    return ProviderTemplate(name=chosen.name, language_code=chosen.language_code,
                            body_parameters=tuple(chosen.body_parameters), url_button=chosen.url_button)


def _fields(kind: str, bill: Bill, config: TenantConfig, utility: str, link: str, expires_at: datetime,
            is_test: bool, language: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "utility": config.branding.display_name or utility,
        "service_label": service_label(bill.service, language),
        "document_number": bill.document_number,
        "due_date": day(bill.due_date, language),
        "link": link,
        "is_test": is_test,
    }
    if kind != "email":
        return fields
    return fields | {
        "customer_name": bill.customer_name,
        "amount": "" if bill.is_credit_note else formatting.money(bill.amount_due, bill.currency, language),
        "valid_until": day(expires_at.astimezone(formatting.ROME).date(), language),
        "primary_color": config.branding.primary_color,
        "text_on_primary": config.branding.text_on_primary,
        "header_image": f"cid:{EMAIL_HEADER_CID}" if config.email_header_key else "",
    }


def _render_tenant(kind: str, texts: MessageTexts, fields: dict[str, Any], language: str) -> RenderedMessage:
    if kind != "email":
        text = render_text(getattr(texts, kind), fields, strict=True, max_chars=MAX_TEXT_CHARS)
        return RenderedMessage(text=text.strip(), language=language)
    subject = render_text(texts.email_subject, fields, strict=True, max_chars=MAX_TEXT_CHARS).strip()
    text = render_text(texts.email_text, fields, strict=True, max_chars=MAX_TEXT_CHARS)
    html = None
    if texts.email_html.strip():
        html = clean_email_html(render_text(texts.email_html, fields | {"subject": subject}, autoescape=True,
                                            strict=True, max_chars=MAX_TEXT_CHARS))
    return RenderedMessage(text=text, subject=subject, html=html, language=language)


def _render_base(kind: str, fields: dict[str, Any]) -> RenderedMessage:
    env = _environment()
    if kind != "email":
        return RenderedMessage(text=env.get_template(f"{kind}.txt").render(fields).strip())
    subject = env.get_template("email_subject.txt").render(fields).strip()
    return RenderedMessage(
        subject=subject,
        text=env.get_template("email.txt").render(fields),
        html=clean_email_html(env.get_template("email.html").render(fields | {"subject": subject})),
    )
