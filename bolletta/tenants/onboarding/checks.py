"""Checks of each wizard step, run when the step is saved and again before activation.

Every check returns a mapping of field name to the problem found, as a translatable
:class:`~bolletta.platform.i18n.message.Text` the page shows next to the field (Italian by default).
An empty mapping means the step may be saved as complete.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy import select
from stdnum.it import iva

from bolletta.channels.sms import alias_problems
from bolletta.platform.db.database import SLUG_PATTERN, Database
from bolletta.platform.db.models.platform import SftpAccount, Tenant, TenantDraft, User
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.portal.language import PAGE_LANGUAGES
from bolletta.tenants.accounts import AccountError, parse_public_key
from bolletta.tenants.addresses import email_problem, mobile_number, shown_phone
from bolletta.tenants.config import (
    MAX_FALLBACK_DELAY_MINUTES,
    MAX_TICKET_VALIDITY_DAYS,
    QuietHours,
    RetentionSettings,
    TenantConfig,
    WhatsappTemplate,
)
from bolletta.tenants.onboarding import steps
from bolletta.themes.check import SECTIONS, theme_field_problems

Problems = dict[str, Text]

SERVICES = ("electricity", "gas", "water")
SERVICE_NAMES_IT = {"luce": "electricity", "elettricità": "electricity", "gas": "gas", "acqua": "water"}
"""The Italian name of each service, which the wizard reads as the stored English id."""
RETENTION_LIMITS = {
    field.name: (field.type.ge, field.type.le)  # type: ignore[attr-defined]
    for field in msgspec.inspect.type_info(RetentionSettings).fields  # type: ignore[attr-defined]
}
"""Allowed range of each retention period, read from the ``Meta`` limits of :class:`RetentionSettings`."""
MESSAGE_KINDS = ("email", "sms", "whatsapp")
KIND_NAMES = {"email": "e-mail", "sms": "SMS", "whatsapp": "WhatsApp"}
"""The name of each kind of message in problem texts."""
MESSAGE_TEXT_KEYS = ("sms", "whatsapp", "email_subject", "email_text", "email_html")
LINKED_PARTS = ("sms", "whatsapp", "email_text")
"""Message parts that must carry the customer's link, or the message leads nowhere."""
CHANNEL_MODES = ("all", "priority")
HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
SFTP_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")
WHATSAPP_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
"""Meta's rule for template names: lower-case letters, digits and underscores."""
WHATSAPP_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
WHATSAPP_FIELDS = ("utility", "service_label", "document_number", "due_date", "link")
"""Bill fields a WhatsApp template parameter may take: none of them is personal data."""


def company_problems(answers: steps.Company, db: Database, draft_id: int | None) -> Problems:
    """Check the company step: name, partita IVA checksum, a free slug, services and e-mails."""
    problems: Problems = {}
    if not answers.legal_name.strip():
        problems["legal_name"] = T_("Enter the utility's legal name.")
    vat = iva.compact(answers.vat_number).removeprefix("IT")
    if not iva.is_valid(vat):
        problems["vat_number"] = T_(
            "{value} is not a valid partita IVA: it needs 11 digits with a correct check digit.",
            value=answers.vat_number)
    slug_problem = _slug_problem(answers.slug, db, draft_id)
    if slug_problem is not None:
        problems["slug"] = slug_problem
    unknown = [service for service in answers.services if service not in SERVICES]
    if not answers.services or unknown:
        problems["services"] = T_("Choose one or more services from {choices}.",
                                  choices="electricity (luce), gas, water (acqua)")
    if not answers.notification_emails:
        problems["notification_emails"] = T_("Enter at least one address for the job e-mails.")
    for line, address in enumerate(answers.notification_emails, start=1):
        problem = email_problem(address)
        if problem is not None:
            problems[f"notification_emails.{line}"] = problem
    return problems


def vat_note(vat_number: str, db: Database, draft_id: int | None) -> Text | None:
    """Return a warning when another utility or open draft has the partita IVA ``vat_number``.

    Only a warning: a group may run two utilities under one partita IVA, but a typing slip is likelier.
    """
    vat = iva.compact(vat_number).removeprefix("IT")
    if not iva.is_valid(vat):
        return None
    holders = []
    with db.platform_session() as session:
        for slug, settings in session.execute(select(Tenant.slug, Tenant.settings).order_by(Tenant.slug)):
            if iva.compact(str((settings or {}).get("vat_number", ""))).removeprefix("IT") == vat:
                holders.append(slug)
        for other_id, answers in session.execute(
            select(TenantDraft.id, TenantDraft.answers).where(TenantDraft.activated_slug.is_(None))
            .order_by(TenantDraft.id)
        ):
            other_vat = str(answers.get("company", {}).get("vat_number", ""))
            if other_id != draft_id and iva.compact(other_vat).removeprefix("IT") == vat:
                holders.append(f"#{other_id}")
    if not holders:
        return None
    return T_("The partita IVA {value} is already used by {holders}: check that this is another utility before "
              "going on.", value=vat, holders=", ".join(holders))


def _slug_problem(slug: str, db: Database, draft_id: int | None) -> Text | None:
    if not SLUG_PATTERN.match(slug):
        return T_("{value} cannot be used as an id: use 2 to 39 lower-case letters, digits or _, starting with a "
                  "letter.", value=slug)
    with db.platform_session() as session:
        if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
            return T_("The id {value} belongs to another utility; choose another.", value=slug)
        for other_id, answers in session.execute(
            select(TenantDraft.id, TenantDraft.answers).where(TenantDraft.activated_slug.is_(None))
        ):
            if other_id != draft_id and answers.get("company", {}).get("slug") == slug:
                return T_("The id {value} is taken by another utility being onboarded; choose another.", value=slug)
    return None


def look_problems(answers: steps.Look, db: Database, draft_id: int | None) -> Problems:
    """Check colours (WCAG AA contrast), font, sections, the link domain and the privacy link."""
    problems: Problems = {}
    config = TenantConfig(branding=answers.branding)
    config.portal.font = answers.font
    for key, problem in theme_field_problems(config).items():
        problems[key.removeprefix("portal.")] = problem
    for name in ("section_order", "hidden_sections"):
        unknown = [section for section in getattr(answers, name) if section not in SECTIONS]
        if unknown:
            problems[name] = T_("{value} is not a section; the sections are {choices}.", value=unknown[0],
                                choices=", ".join(SECTIONS))
    if "sommario" in answers.hidden_sections:
        problems.setdefault("hidden_sections", T_("The summary section cannot be hidden."))
    if answers.link_domain and not HOST_NAME.match(answers.link_domain):
        problems["link_domain"] = T_("{value} is not a host name such as bolletta.acme.it.", value=answers.link_domain)
    if answers.privacy_url and not answers.privacy_url.startswith("https://"):
        problems["privacy_url"] = T_("The privacy notice link must start with https://.")
    support_email = answers.branding.support_email
    support_problem = email_problem(support_email) if support_email else None
    if support_problem is not None:
        problems["support_email"] = support_problem
    return problems


SAMPLE_FIELDS = {"utility": "ACME Energia", "service_label": "luce", "document_number": "2026/A/000123",
                 "due_date": "31/12/2026", "link": "https://bolletta.acme.example/t/AbCdEfGhIjKlMnOpQrStUv",
                 "is_test": False}
"""The fields an SMS or WhatsApp text may use, with sample values for the trial render."""
EMAIL_SAMPLE_FIELDS = SAMPLE_FIELDS | {"customer_name": "Maria Rossi", "amount": "84,20 €", "valid_until": "15/01/2027",
                                       "primary_color": "#0b4f8a", "text_on_primary": "#ffffff",
                                       "subject": "La tua bolletta", "header_image": ""}
"""The fields an e-mail may use besides those of :data:`SAMPLE_FIELDS`."""


def messages_problems(answers: steps.Messages, db: Database, draft_id: int | None, tenant: str = "") -> Problems:
    """Check languages and parts, then render each text in the sandbox with sample fields.

    A text that uses a field its kind may not have (an SMS greeting the customer by name), a syntax
    error or a broken time or size limit is reported with the language and the part. So is e-mail
    HTML that sending would clean (a script, an event attribute, a remote image, an unsafe link),
    naming what would be removed. An attempt to
    escape the sandbox is logged as a security event for ``tenant`` (the slug), or for the draft.
    """
    from jinja2 import TemplateError

    from bolletta.platform.dispatch.rendering import MAX_TEXT_CHARS
    from bolletta.themes.email_html_problems import email_html_problem
    from bolletta.themes.sandbox import log_escape_attempt, render_text
    from bolletta.themes.template_problems import template_problem

    problems: Problems = {}
    for language, texts in answers.texts.items():
        if language not in PAGE_LANGUAGES:
            problems["texts"] = T_("{value} is not a language the bill pages offer ({choices}).", value=language,
                                   choices=", ".join(PAGE_LANGUAGES))
            break
        unknown = [key for key in texts if key not in MESSAGE_TEXT_KEYS]
        if unknown:
            problems["texts"] = T_("{value} is not a message part; use {choices}.", value=unknown[0],
                                   choices=", ".join(MESSAGE_TEXT_KEYS))
            break
        for part, source in texts.items():
            fields = EMAIL_SAMPLE_FIELDS if part.startswith("email") else SAMPLE_FIELDS
            try:
                rendered = render_text(source, fields, autoescape=part == "email_html", strict=True,
                                       max_chars=MAX_TEXT_CHARS)
            except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as exc:
                log_escape_attempt(tenant or f"draft {draft_id}", f"message text {language}.{part}", exc)
                problems[f"texts.{language}.{part}"] = template_problem(exc, fields)
                continue
            if part in LINKED_PARTS and source.strip() and str(SAMPLE_FIELDS["link"]) not in rendered:
                problems[f"texts.{language}.{part}"] = T_(
                    "The text has no link: add {{{{ link }}}} where the customer's personal link goes.")
            if part == "email_html":
                html_problem = email_html_problem(source, rendered)
                if html_problem is not None:
                    problems[f"texts.{language}.{part}"] = html_problem
        problems |= _email_pair_problems(language, texts)
    for language, template in answers.whatsapp_templates.items():
        problems |= whatsapp_template_problems(language, template)
    return problems


def _email_pair_problems(language: str, texts: dict[str, str]) -> Problems:
    """Require the subject and the plain text together: dispatch ignores a tenant e-mail missing either."""
    subject = texts.get("email_subject", "").strip()
    body = texts.get("email_text", "").strip()
    if (body or texts.get("email_html", "").strip()) and not subject:
        return {f"texts.{language}.email_subject": T_(
            "Enter the e-mail subject: without it the e-mail text is not used and customers get the product's "
            "e-mail.")}
    if subject and not body:
        return {f"texts.{language}.email_text": T_(
            "Enter the e-mail text too: a subject alone is not used and customers get the product's e-mail.")}
    return {}


def whatsapp_template_problems(language: str, template: WhatsappTemplate) -> Problems:
    """Check one language's approved template: its name, language code and parameter mapping.

    The link must reach the customer, either as a body parameter or as the URL button's suffix.
    """
    problems: Problems = {}
    prefix = f"whatsapp_templates.{language}"
    if language not in PAGE_LANGUAGES:
        problems[prefix + ".name"] = T_("{value} is not a language the bill pages offer ({choices}).",
                                        value=language, choices=", ".join(PAGE_LANGUAGES))
        return problems
    if not template.name:
        problems[prefix + ".name"] = T_("Enter the name of the template Meta approved.")
    elif not WHATSAPP_TEMPLATE_NAME.match(template.name):
        problems[prefix + ".name"] = T_(
            "{value} is not a template name: use the name Meta approved, in lower-case letters, digits and _.",
            value=template.name)
    if not WHATSAPP_LANGUAGE_CODE.match(template.language_code):
        problems[prefix + ".language_code"] = T_(
            "{value} is not a template language code such as it or en_US.", value=template.language_code)
    if template.category != "UTILITY":
        problems[prefix + ".category"] = T_(
            "{value} is not allowed: a bill notice must use a template approved in the UTILITY category.",
            value=template.category)
    unknown = [name for name in template.body_parameters if name not in WHATSAPP_FIELDS]
    if unknown:
        problems[prefix + ".body_parameters"] = T_(
            "{value} is not a field a template may use; use {choices}, one per parameter in order.",
            value=unknown[0], choices=", ".join(WHATSAPP_FIELDS))
    elif "link" not in template.body_parameters and not template.url_button:
        problems[prefix + ".body_parameters"] = T_(
            "The template does not carry the link: map a parameter to link or tick the URL button.")
    return problems


def senders_problems(answers: steps.Senders, db: Database, draft_id: int | None) -> Problems:
    """Check the channel plugins against what is installed, the SMS alias and the e-mail senders."""
    from bolletta.platform.dispatch.channels import installed_channels

    problems: Problems = {}
    installed = installed_channels().plugins
    for kind, plugin_id in answers.channel_plugins.items():
        plugin = installed.get(plugin_id)
        if kind not in MESSAGE_KINDS:
            problems["channel_plugins"] = T_("{value} is not a kind of message; use {choices}.", value=kind,
                                             choices=", ".join(MESSAGE_KINDS))
        elif plugin is None or kind not in plugin.capabilities.kinds:
            choices = sorted(name for name, other in installed.items() if kind in other.capabilities.kinds)
            problems[f"channel_plugins.{kind}"] = T_(
                "{value} is not an installed plugin that sends {kind} messages; choose one of {choices}.",
                value=plugin_id, kind=KIND_NAMES[kind], choices=", ".join(choices))
    problems |= shared_account_problems(answers.channel_plugins, answers.channel_accounts, db)
    if answers.sms_sender and alias_problems(answers.sms_sender):
        problems["sms_sender"] = T_(
            "{value} cannot be an SMS alias: at most 11 letters, digits, spaces or . - _ & + ', not starting with a "
            "digit.", value=answers.sms_sender)
    for field in ("email_sender", "email_reply_to"):
        value = getattr(answers, field)
        problem = email_problem(value) if value else None
        if problem is not None:
            problems[field] = problem
    if not answers.email_sender:
        problems["email_sender"] = T_("Enter the From address of the e-mails, such as bolletta@acme.it.")
    return problems


def shared_account_problems(plugins: dict[str, str], accounts: dict[str, str], db: Database) -> Problems:
    """Check that each chosen shared account exists and uses the plugin chosen for its kind."""
    from bolletta.platform.dispatch.shared_accounts import find_account

    problems: Problems = {}
    for kind, name in accounts.items():
        if not name:
            continue
        if kind not in MESSAGE_KINDS:
            problems["channel_accounts"] = T_("{value} is not a kind of message; use {choices}.", value=kind,
                                              choices=", ".join(MESSAGE_KINDS))
            continue
        account = find_account(db, name)
        if account is None:
            problems[f"channel_accounts.{kind}"] = T_(
                "There is no shared account named {value}; add it under Shared accounts or leave the field empty.",
                value=name)
        elif account.plugin != plugins.get(kind):
            problems[f"channel_accounts.{kind}"] = T_(
                "The shared account {value} uses the plugin {plugin}: choose {plugin} as the {kind} plugin.",
                value=name, plugin=account.plugin, kind=KIND_NAMES[kind])
    return problems


def languages_problems(answers: steps.Languages, db: Database, draft_id: int | None) -> Problems:
    """Check that Italian is offered, every language is one the pages speak, and voices match them."""
    problems: Problems = {}
    unknown = [language for language in answers.languages if language not in PAGE_LANGUAGES]
    if unknown:
        problems["languages"] = T_("{value} is not a language the bill pages offer ({choices}).", value=unknown[0],
                                   choices=", ".join(PAGE_LANGUAGES))
    elif "it" not in answers.languages:
        problems["languages"] = T_("Italian is always offered: keep it in the list.")
    stray = [language for language in answers.voices if language not in answers.languages]
    if stray:
        problems["voices"] = T_("A voice is set for {value}, a language the pages do not offer.", value=stray[0])
    return problems


def voice_problems(voices: dict[str, str], installed: list[str]) -> Problems:
    """Check that each language's voice is installed and speaks that language (``it_IT-paola-medium``: ``it``)."""
    problems: Problems = {}
    for language, voice in voices.items():
        if voice not in installed:
            problems[f"voices.{language}"] = T_(
                "The voice {value} is not installed; install it with bolletta voices install, or choose another.",
                value=voice)
        elif voice.split("_", 1)[0] != language:
            problems[f"voices.{language}"] = T_("The voice {value} does not speak {language}.", value=voice,
                                                language=language)
    return problems


def retention_problems(retention: steps.Retention) -> Problems:
    """Check each retention period against the limits of :class:`RetentionSettings`."""
    problems: Problems = {}
    for name, (low, high) in RETENTION_LIMITS.items():
        value = getattr(retention, name)
        if not low <= value <= high:
            problems[f"retention.{name}"] = T_("{value} is outside the allowed range, {low} to {high}.",
                                               value=value, low=low, high=high)
    return problems


def contacts_problems(answers: steps.Contacts, db: Database, draft_id: int | None) -> Problems:
    """Check the contact sources, the channel mode, the priority list and the fallback delay."""
    from bolletta.platform.dispatch.contacts import CONTACT_SOURCES

    problems: Problems = {}
    unknown = [source for source in answers.contact_sources if source not in CONTACT_SOURCES]
    if unknown or not answers.contact_sources:
        problems["contact_sources"] = T_("Choose one or more contact sources from {choices}.",
                                         choices=", ".join(CONTACT_SOURCES))
    if answers.channel_mode not in CHANNEL_MODES:
        problems["channel_mode"] = T_("{value} is not a channel rule; use {choices}.", value=answers.channel_mode,
                                      choices=", ".join(CHANNEL_MODES))
    priority = answers.channel_priority
    if any(kind not in MESSAGE_KINDS for kind in priority) or len(set(priority)) != len(priority) or not priority:
        problems["channel_priority"] = T_("List each of {choices} at most once, first the preferred one.",
                                          choices=", ".join(MESSAGE_KINDS))
    if not 0 <= answers.fallback_delay_minutes <= MAX_FALLBACK_DELAY_MINUTES:
        problems["fallback_delay_minutes"] = T_(
            "{value} minutes is outside the allowed range, 0 to {limit}.", value=answers.fallback_delay_minutes,
            limit=MAX_FALLBACK_DELAY_MINUTES)
    return problems


def payments_problems(answers: steps.Payments, db: Database, draft_id: int | None) -> Problems:
    """Check that each gateway is an installed gateway plugin."""
    from bolletta.gateways.base import Gateway
    from bolletta.platform.plugins import load_plugins

    problems: Problems = {}
    installed = load_plugins("bolletta.gateways", Gateway).plugins  # type: ignore[type-abstract]
    unknown = [gateway for gateway in answers.enabled_gateways if gateway not in installed]
    if unknown:
        problems["enabled_gateways"] = T_("No payment plugin {value} is installed; the installed ones are {choices}.",
                                          value=unknown[0], choices=", ".join(sorted(installed)))
    return problems


def flow_problems(answers: steps.Flow, db: Database, draft_id: int | None) -> Problems:
    """Check formats, the SFTP login, validity, test recipients and quiet hours."""
    from bolletta.flows.base import FlowReader
    from bolletta.platform.plugins import load_plugins

    problems: Problems = {}
    readers = load_plugins("bolletta.flows", FlowReader).plugins  # type: ignore[type-abstract]
    unknown = [flow for flow in answers.flow_formats if flow not in readers]
    if unknown or not answers.flow_formats:
        problems["flow_formats"] = T_("Choose one or more flow formats from {choices}.",
                                      choices=", ".join(sorted(readers)))
    username_problem = _sftp_username_problem(answers.sftp_username, db)
    if username_problem is not None:
        problems["sftp_username"] = username_problem
    if not answers.sftp_password_hash and not answers.sftp_public_keys:
        problems["sftp_password"] = T_("Give the SFTP login a password, an SSH public key, or both.")
    for index, line in enumerate(answers.sftp_public_keys, start=1):
        try:
            parse_public_key(line)
        except AccountError:
            problems[f"sftp_public_keys.{index}"] = T_(
                "Public key {index} cannot be used: paste one OpenSSH line such as ssh-ed25519 AAAA... name "
                "(RSA keys need at least 3072 bits).", index=index)
    if not 1 <= answers.ticket_validity_days <= MAX_TICKET_VALIDITY_DAYS:
        problems["ticket_validity_days"] = T_("{value} days is outside the allowed range, 1 to {limit}.",
                                              value=answers.ticket_validity_days, limit=MAX_TICKET_VALIDITY_DAYS)
    for number, recipient in enumerate(answers.test_recipients, start=1):
        problem = recipient_problem(recipient.channel, recipient.address)
        if problem is not None:
            problems[f"test_recipients.{number}"] = problem
    return problems | quiet_hours_problems(answers.quiet_hours) | retention_problems(answers.retention)


def quiet_hours_problems(quiet: QuietHours) -> Problems:
    """Check each part of the quiet hours on its own, so each problem sits next to its field."""
    problems: Problems = {}
    for name in ("start", "end"):
        value = getattr(quiet, name)
        if not CLOCK_TIME.match(value):
            problems[f"quiet_hours.{name}"] = T_("{value} is not a time of day such as 21:00.", value=value)
    try:
        zoneinfo.ZoneInfo(quiet.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems["quiet_hours.timezone"] = T_("{value} is not a time zone such as Europe/Rome.", value=quiet.timezone)
    if "quiet_hours.start" not in problems and quiet.start == quiet.end:
        problems["quiet_hours.end"] = T_(
            "The quiet hours start and end at {value}, so they last no time; set an end different from the start.",
            value=quiet.end)
    unknown = [kind for kind in quiet.kinds if kind not in MESSAGE_KINDS]
    repeated = [kind for position, kind in enumerate(quiet.kinds) if kind in quiet.kinds[:position]]
    if unknown:
        problems["quiet_hours.kinds"] = T_("{value} is not a kind of message; use {choices}.", value=unknown[0],
                                           choices=", ".join(MESSAGE_KINDS))
    elif repeated:
        problems["quiet_hours.kinds"] = T_("{value} is listed more than once; list each kind of message once.",
                                           value=repeated[0])
    return problems


def _sftp_username_problem(username: str, db: Database) -> Text | None:
    if not SFTP_USERNAME.match(username):
        return T_("{value} cannot be an SFTP username: use 3 to 64 lower-case letters, digits, . _ or -, starting "
                  "with a letter.", value=username)
    with db.platform_session() as session:
        if session.scalar(select(SftpAccount.id).where(SftpAccount.username == username)) is not None:
            return T_("The SFTP username {value} is taken; choose another.", value=username)
    return None


def recipient_problem(channel: str, address: str) -> Text | None:
    """Return why ``address`` cannot receive a test ``channel`` message, or ``None``."""
    if not address:
        return T_("{value} is not a channel and an address: write one per line, separated by a space, such as "
                  "email prove@acme.it or sms +39 333 1234567.", value=channel)
    if channel not in MESSAGE_KINDS:
        return T_("{value} is not a kind of message; use {choices}.", value=channel, choices=", ".join(MESSAGE_KINDS))
    if channel == "email":
        return email_problem(address)
    if mobile_number(address) is None:
        return T_("{value} is not a mobile number, such as +39 333 1234567.", value=shown_phone(address))
    return None


def staff_problems(answers: steps.Staff, db: Database, draft_id: int | None) -> Problems:
    """Check the first admin's username (free) and e-mail address (where the invitation goes)."""
    problems: Problems = {}
    if not re.fullmatch(r"[A-Za-z0-9._@-]{3,150}", answers.username):
        problems["username"] = T_("{value} cannot be a username: use 3 to 150 letters, digits, . _ @ or -.",
                                  value=answers.username)
    else:
        with db.platform_session() as session:
            if session.scalar(select(User.id).where(User.username == answers.username)) is not None:
                problems["username"] = T_("The username {value} is taken; choose another.", value=answers.username)
    problem = email_problem(answers.email) if answers.email else T_("Enter the address the invitation goes to.")
    if problem is not None:
        problems["email"] = problem
    return problems


CHECKS: dict[str, Callable[[Any, Database, int | None], Problems]] = {
    "company": company_problems,
    "look": look_problems,
    "messages": messages_problems,
    "senders": senders_problems,
    "languages": languages_problems,
    "contacts": contacts_problems,
    "payments": payments_problems,
    "flow": flow_problems,
    "staff": staff_problems,
}
"""The check of each step, by step name."""


def step_problems(step: str, answers: msgspec.Struct, db: Database, draft_id: int | None) -> Problems:
    """Run the check of ``step`` on its converted answers."""
    return CHECKS[step](answers, db, draft_id)
