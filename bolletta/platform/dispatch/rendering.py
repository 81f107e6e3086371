"""Message texts for each channel, rendered in Jinja2's sandbox with only the allowed fields.

SMS and WhatsApp texts get only non-personal fields (utility, service, document number, due date,
link); e-mail may also greet the customer by name and show the amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.i18n import formatting
from bolletta.tenants.config import TenantConfig

MESSAGES_DIR = Path(__file__).resolve().parents[2] / "themes" / "base" / "messages"

SERVICE_LABELS = {"electricity": "luce", "gas": "gas", "water": "acqua"}


@lru_cache(maxsize=1024)
def day(value: date | None) -> str:
    """Format a date as messages show it; cached, because Babel's pattern matching costs more than
    the rest of a message and a dispatch repeats the same few due dates."""
    return formatting.day(value)


@dataclass(frozen=True)
class RenderedMessage:
    """Texts of one message, ready for a channel plugin."""

    text: str
    subject: str | None = None
    html: str | None = None


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(MESSAGES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def render_message(
    kind: str, *, bill: Bill, config: TenantConfig, utility: str, link: str, expires_at: datetime,
    is_test: bool,
) -> RenderedMessage:
    """Render the ``kind`` (``sms``, ``whatsapp`` or ``email``) message for ``bill``."""
    fields = {
        "utility": config.branding.display_name or utility,
        "service_label": SERVICE_LABELS.get(bill.service, bill.service),
        "document_number": bill.document_number,
        "due_date": day(bill.due_date),
        "link": link,
        "is_test": is_test,
    }
    env = _environment()
    if kind != "email":
        return RenderedMessage(text=env.get_template(f"{kind}.txt").render(fields).strip())
    fields |= {
        "customer_name": bill.customer_name,
        "amount": "" if bill.is_credit_note else formatting.money(bill.amount_due, bill.currency),
        "valid_until": day(expires_at.astimezone(formatting.ROME).date()),
        "primary_color": config.branding.primary_color,
        "text_on_primary": config.branding.text_on_primary,
    }
    subject = env.get_template("email_subject.txt").render(fields).strip()
    return RenderedMessage(
        subject=subject,
        text=env.get_template("email.txt").render(fields),
        html=env.get_template("email.html").render(fields | {"subject": subject}),
    )
