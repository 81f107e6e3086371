"""The wizard's steps and the values each one collects.

Each step is a msgspec struct. A page or the CLI hands in what the user typed; :func:`convert_step`
turns it into the step's struct (form strings become numbers and booleans) or names the field that
could not be read. The checks of each step's content are in :mod:`bolletta.tenants.onboarding.checks`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from bolletta.tenants.config import Branding, QuietHours, TestRecipient, WhatsappTemplate


class UploadedImage(msgspec.Struct, kw_only=True):
    """An image uploaded in the wizard, kept in the draft until activation stores it."""

    content_type: str
    """``image/png`` or ``image/jpeg``, read from the file's first bytes."""
    data: bytes


class Company(msgspec.Struct, kw_only=True):
    """The utility's identity and the addresses that receive its job e-mails."""

    legal_name: str = ""
    vat_number: str = ""
    """Partita IVA, 11 digits; an ``IT`` prefix is accepted and dropped."""
    slug: str = ""
    """The tenant's id in URLs, schema names and storage keys; fixed once the tenant is active."""
    services: list[str] = []
    """``electricity``, ``gas`` and/or ``water``."""
    notification_emails: list[str] = []


class Look(msgspec.Struct, kw_only=True):
    """Branding and page layout."""

    branding: Branding = msgspec.field(default_factory=Branding)
    link_domain: str = ""
    """Host name of the customer links, such as ``bolletta.acme.it``; empty: the platform's host."""
    font: str = "system"
    section_order: list[str] = []
    hidden_sections: list[str] = []
    privacy_url: str = ""
    logo: UploadedImage | None = None
    """The logo shown on the bill pages' header; uploaded apart from the step's form."""


class Messages(msgspec.Struct, kw_only=True):
    """The tenant's own message texts, by language; an empty step keeps the product's texts."""

    texts: dict[str, dict[str, str]] = {}
    """Language to ``{"sms": ..., "whatsapp": ..., "email_subject": ..., "email_text": ...}``."""
    whatsapp_templates: dict[str, WhatsappTemplate] = {}
    """Language to the approved WhatsApp template and its parameter mapping."""
    email_header: UploadedImage | None = None
    """Image at the top of HTML e-mails, sent as an inline part; uploaded apart from the step's form."""


class Senders(msgspec.Struct, kw_only=True):
    """The plugin and the sender identity of each kind of message."""

    channel_plugins: dict[str, str] = msgspec.field(
        default_factory=lambda: {"email": "smtp", "sms": "outbox", "whatsapp": "outbox"}
    )
    sms_sender: str = ""
    """The SMS alias registered with AGCOM."""
    email_sender: str = ""
    email_reply_to: str = ""
    channel_settings: dict[str, dict[str, Any]] = {}
    """Plugin id to its settings, secret fields already encrypted as the tenant's settings keep them."""
    channel_accounts: dict[str, str] = {}
    """Kind to the name of the platform shared account that sends it; empty or absent for the tenant's own."""


class Languages(msgspec.Struct, kw_only=True):
    """Languages the bill pages offer, and the read-aloud voice of each."""

    languages: list[str] = msgspec.field(default_factory=lambda: ["it", "en"])
    voices: dict[str, str] = {}


class Contacts(msgspec.Struct, kw_only=True):
    """Channel rules: one message per known contact, or the first contact in a priority order."""

    contact_sources: list[str] = msgspec.field(default_factory=lambda: ["flow", "job_csv", "directory"])
    """``flow``, ``job_csv`` and/or ``directory``: where contact data comes from."""
    channel_mode: str = "all"
    channel_priority: list[str] = msgspec.field(default_factory=lambda: ["whatsapp", "sms", "email"])
    fallback_delay_minutes: int = 60


class Payments(msgspec.Struct, kw_only=True):
    """Gateways offered on the bill pages, with the credentials of each."""

    enabled_gateways: list[str] = msgspec.field(default_factory=lambda: ["sandbox"])
    gateway_settings: dict[str, dict[str, Any]] = {}
    """Gateway id to its settings, secret fields already sealed as the tenant's settings keep them."""


class Retention(msgspec.Struct, kw_only=True):
    """Retention periods as typed; :mod:`.checks` checks them against the limits of the tenant settings."""

    bill_months: int = 24
    event_months: int = 24
    audit_years: int = 10


class Flow(msgspec.Struct, kw_only=True):
    """Flow formats, the SFTP login and the dispatch rules."""

    flow_formats: list[str] = msgspec.field(default_factory=lambda: ["fatturapa", "fatturapa_signed", "jsonl"])
    sftp_username: str = ""
    sftp_password_hash: str = ""
    """Argon2 hash of the SFTP password; the password itself is never stored in the draft."""
    sftp_public_keys: list[str] = []
    """OpenSSH public key lines."""
    ticket_validity_days: int = 15
    test_recipients: list[TestRecipient] = []
    quiet_hours: QuietHours = msgspec.field(default_factory=QuietHours)
    may_start_dispatch: bool = False
    retention: Retention = msgspec.field(default_factory=Retention)
    """How long bill data, customer events and the audit trail are kept."""


class Staff(msgspec.Struct, kw_only=True):
    """The first tenant admin, invited by e-mail at activation."""

    username: str = ""
    email: str = ""
    full_name: str = ""


UPLOADED_FIELDS = {"look": "logo", "messages": "email_header"}
"""The image field of a step: its form never carries it, so saving the step keeps the stored one."""

STEPS: dict[str, type[msgspec.Struct]] = {
    "company": Company,
    "look": Look,
    "messages": Messages,
    "senders": Senders,
    "languages": Languages,
    "contacts": Contacts,
    "payments": Payments,
    "flow": Flow,
    "staff": Staff,
}
"""Step names in the wizard's order, each with the struct of its values."""


class UnreadableAnswer(ValueError):
    """Raised when a value cannot be read as its field's type; ``field`` names the field."""

    def __init__(self, step: str, field: str, reason: str) -> None:
        super().__init__(f"step {step}: field {field or '(whole step)'}: {reason}")
        self.step = step
        self.field = field


def convert_step(step: str, answers: dict[str, Any]) -> msgspec.Struct:
    """Return ``answers`` as the struct of ``step``.

    Raises:
        KeyError: ``step`` is not one of :data:`STEPS`.
        UnreadableAnswer: a value has the wrong type, such as letters where a number of days goes.
    """
    struct = STEPS[step]
    try:
        return msgspec.convert(answers, struct, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec ends its message with "- at `$.field...`"; the first path segment is the field.
        message = str(exc)
        field = ""
        if "at `$." in message:
            field = message.split("at `$.", 1)[1].split("`", 1)[0].split(".", 1)[0].split("[", 1)[0]
        raise UnreadableAnswer(step, field, message) from exc
