"""Checks of each settings section, shared by the console and the backoffice.

Where the onboarding wizard collects the same value, its step check runs here too, so the page
shows the same message. A step check looks at its whole step, so it is given the values the
settings hold. Only the problems of the fields this section edits are kept. The company step's slug
and services, for example, are fixed after activation, so their problems are dropped. Every problem is keyed
by the path of the field it is shown next to.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr

from jinja2 import TemplateError

from bolletta.platform.db.database import Database
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.speech.voices import installed_voices
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.onboarding import checks as step_checks
from bolletta.tenants.onboarding import steps
from bolletta.tenants.settings_editor.fields import SECTIONS, Section
from bolletta.themes.block_html import BLOCK_TAGS, block_html_changed
from bolletta.themes.check import SECTIONS as PAGE_SECTIONS
from bolletta.themes.check import problem_setting, theme_problems
from bolletta.themes.sandbox import MAX_BLOCK_OUTPUT_CHARS, log_escape_attempt, render_text
from bolletta.themes.template_problems import template_problem

Problems = dict[str, Text]

BLOCK_SAMPLE_FIELDS: dict[str, str | int | float | None] = {
    "utility": "ACME Energia", "language": "it", "service": "electricity", "document_number": "2026/A/000123",
    "customer_name": "Maria Rossi", "amount_due": "84,20 €", "due_date": "31/12/2026", "state": "payable",
}
"""The fields a content block may use (those of the bill page), with sample values for the trial render."""
BILLS_BY_EMAIL = ("off", "attach", "link")
COSTS_LAYOUTS = ("", "summary_2016", "receipt_2025")
FIXED_CODE_SOURCES = ("fiscal_code", "id_documento_contratto")
AFTER_DOWNLOAD = ("move", "delete")


@dataclass(frozen=True)
class Tenant:
    """The tenant's slug and legal name, which some checks need besides its settings."""

    slug: str
    name: str


def _belongs(path: str, key: str) -> bool:
    """True when problem ``key`` is shown at field ``path``.

    The key names the field, its last part, its parent setting, or one line or entry of it
    (``test_recipients.2``).
    """
    return path == key or path.endswith(f".{key}") or path.startswith(f"{key}.") or key.startswith(f"{path}.")


def _keep(section: Section, found: Problems) -> Problems:
    """Key the step's problems by field path, dropping those of fields the section does not edit.

    The problem of one line keeps its line number (``test_recipients.2``).
    """
    kept: Problems = {}
    for key, problem in found.items():
        for item in section.fields:
            if _belongs(item.path, key):
                line = key[len(item.path) + 1:] if key.startswith(f"{item.path}.") else ""
                kept.setdefault(f"{item.path}.{line}" if line.isdigit() else item.path, problem)
                break
    return kept


def _about(found: Problems, *settings: str) -> Problems:
    """Keep the problems of ``settings``, whether keyed by the setting or by one of its lines."""
    return {key: problem for key, problem in found.items() if key.split(".", 1)[0] in settings}


def company_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Check the partita IVA, the job e-mails, the colours (WCAG AA), contacts and the link domain."""
    company = steps.Company(legal_name=tenant.name, vat_number=config.vat_number, slug=tenant.slug,
                            services=["electricity"], notification_emails=config.notification_emails)
    found = _about(step_checks.company_problems(company, db, None), "vat_number", "notification_emails")
    look = steps.Look(branding=config.branding, link_domain=config.link_domain, font=config.portal.font)
    found |= step_checks.look_problems(look, db, None)
    return _keep(section, found)


def _block_problem(slug: str, name: str, source: str) -> Text | None:
    """Render a content block once with sample bill data, within the sandbox's time and size limits.

    A block that renders but contains HTML the page drops (scripts, forms, redirects, ``javascript:``
    links) is rejected too, so the tenant learns why the page shows less than they wrote.
    """
    try:
        html = render_text(source, BLOCK_SAMPLE_FIELDS, autoescape=True, strict=True,
                           max_chars=MAX_BLOCK_OUTPUT_CHARS)
    except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as exc:
        log_escape_attempt(slug, f"content block {name}", exc)
        return template_problem(exc, BLOCK_SAMPLE_FIELDS)
    if block_html_changed(html):
        return T_("The block holds HTML the page leaves out (scripts, forms, redirects, event attributes or "
                  "links that are not http, https, mailto or tel); use only {tags}.",
                  tags=", ".join(sorted(BLOCK_TAGS)))
    return None


def page_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Check languages and voices, layout, glossary, links, and trial-render every content block."""
    portal = config.portal
    languages = steps.Languages(languages=portal.languages, voices=portal.voices)
    look = steps.Look(font=portal.font, section_order=portal.section_order, hidden_sections=portal.hidden_sections,
                      privacy_url=portal.privacy_url)
    found = step_checks.languages_problems(languages, db, None)
    found |= _about(step_checks.look_problems(look, db, None), "font", "section_order", "hidden_sections",
                    "privacy_url")
    problems = _keep(section, {f"portal.{key}": problem for key, problem in found.items()})

    installed = [voice.voice_id for voice in installed_voices(db.settings.data_path)]
    for problem in step_checks.voice_problems(portal.voices, installed).values():
        problems.setdefault("portal.voices", problem)
    stray = [language for language in portal.glossary if language not in portal.languages]
    if stray:
        problems["portal.glossary"] = T_("The glossary has words for {value}, a language the pages do not offer.",
                                         value=stray[0])

    for name, links in portal.extra_links.items():
        if name not in PAGE_SECTIONS:
            problems["portal.extra_links"] = T_("{value} is not a section; the sections are {choices}.", value=name,
                                                choices=", ".join(PAGE_SECTIONS))
        elif any(not url.startswith("https://") for _, url in links):
            problems["portal.extra_links"] = T_("Every extra link must start with https://.")

    for problem in theme_problems(config):
        setting = problem_setting(problem)
        if setting == "portal.logo_url" or setting.startswith("portal.blocks."):
            problems.setdefault(setting, problem)

    for name, source in portal.blocks.items():
        path = f"portal.blocks.{name}"
        block_problem = _block_problem(tenant.slug, name, source) if path not in problems else None
        if block_problem is not None:
            problems[path] = block_problem
    return problems


def channels_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Check the plugins against what is installed and enabled, the SMS alias and the e-mail sender."""
    # The stored sender may carry a display name (``ACME Energia <bolletta@acme.it>``); the wizard's
    # check reads a bare address, so it gets the address alone.
    _, address = parseaddr(config.email_sender)
    senders = steps.Senders(channel_plugins=config.channel_plugins, channel_accounts=config.channel_accounts,
                            sms_sender=config.sms_sender,
                            email_sender=address if "<" in config.email_sender and address else config.email_sender)
    problems = _keep(section, step_checks.senders_problems(senders, db, None))
    for kind, plugin_id in config.channel_plugins.items():
        if plugin_id not in config.enabled_channels:
            problems.setdefault(f"channel_plugins.{kind}", T_(
                "The plugin {value} is not enabled for this utility; enable it on the utility's page first.",
                value=plugin_id))
    if config.bills_by_email not in BILLS_BY_EMAIL:
        problems["bills_by_email"] = T_("{value} is not a choice; use {choices}.", value=config.bills_by_email,
                                        choices=", ".join(BILLS_BY_EMAIL))
    return problems


def whatsapp_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Check each language's approved template as the wizard's message step does."""
    found: Problems = {}
    for language, template in config.whatsapp_templates.items():
        found |= step_checks.whatsapp_template_problems(language, template)
    return _keep(section, found)


def contacts_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Check the contact sources, the channel rule, the priority list and the fallback delay as onboarding does."""
    contacts = steps.Contacts(contact_sources=config.contact_sources, channel_mode=config.channel_mode,
                              channel_priority=config.channel_priority,
                              fallback_delay_minutes=config.fallback_delay_minutes)
    return _keep(section, step_checks.contacts_problems(contacts, db, None))


def _flow_step(config: TenantConfig) -> steps.Flow:
    return steps.Flow(flow_formats=config.flow_formats, ticket_validity_days=config.ticket_validity_days,
                      test_recipients=config.test_recipients, quiet_hours=config.quiet_hours)


def quiet_hours_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Check the two times of day, the time zone and the message kinds that wait."""
    quiet = config.quiet_hours
    found = _about(step_checks.flow_problems(_flow_step(config), db, None), "quiet_hours")
    problems = {key: problem for key, problem in found.items() if key != "quiet_hours"}
    problem = found.get("quiet_hours")
    if problem is not None:
        # A problem keyed by the whole setting is shown at the part whose value it names.
        value = problem.params.get("value")
        field = {quiet.start: "start", quiet.end: "end", quiet.timezone: "timezone"}.get(str(value), "start")
        problems.setdefault(f"quiet_hours.{field}", problem)
    unknown = [kind for kind in quiet.kinds if kind not in step_checks.MESSAGE_KINDS]
    if unknown:
        problems.setdefault("quiet_hours.kinds", T_("{value} is not a kind of message; use {choices}.",
                                                    value=unknown[0], choices=", ".join(step_checks.MESSAGE_KINDS)))
    return problems


def dispatch_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Check the link validity and the test recipients as onboarding does."""
    found = step_checks.flow_problems(_flow_step(config), db, None)
    return _keep(section, _about(found, "ticket_validity_days", "test_recipients"))


def payments_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Check that each gateway is an installed gateway plugin with the tenant's settings stored."""
    payments = steps.Payments(enabled_gateways=config.enabled_gateways)
    problems = _keep(section, step_checks.payments_problems(payments, db, None))
    if "enabled_gateways" not in problems:
        unset = [gateway for gateway in config.enabled_gateways if not _gateway_configured(config, gateway)]
        if unset:
            problems["enabled_gateways"] = T_(
                "The gateway {value} has no settings for this utility, so customers could not pay with it; enter "
                "its settings on the utility's payment gateway page first, or remove it from the list.",
                value=unset[0])
    return problems


def _gateway_configured(config: TenantConfig, gateway: str) -> bool:
    """True when the tenant stored settings for ``gateway``, or its plugin needs none (the sandbox)."""
    from bolletta.gateways.errors import GatewayConfigError
    from bolletta.platform.payments.gateways import gateway_class

    if gateway in config.gateway_settings:
        return True
    try:
        gateway_class(gateway).settings_from_dict({})
    except GatewayConfigError:
        return False
    return True


def flow_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Check the formats, the customer code source, the number pattern and the cost rules."""
    from bolletta.platform.ingest.cost_categories import checked_cost_rules, layout_of_rules

    found = step_checks.flow_problems(_flow_step(config), db, None)
    problems = _keep(section, _about(found, "flow_formats"))
    source = config.customer_code_source
    if source not in FIXED_CODE_SOURCES and not (source.startswith("altri_dati:") and source[11:].strip()):
        problems["customer_code_source"] = T_("{value} is not a source; use {choices} or altri_dati:<TipoDato>.",
                                              value=source, choices=", ".join(FIXED_CODE_SOURCES))
    try:
        re.compile(config.series_pattern)
    except re.error as exc:
        problems["series_pattern"] = T_("The pattern is not a valid regular expression ({error}).", error=str(exc))
    if config.costs_layout not in COSTS_LAYOUTS:
        problems["costs_layout"] = T_("{value} is not a choice; use {choices}.", value=config.costs_layout,
                                      choices=", ".join(name for name in COSTS_LAYOUTS if name))
    else:
        try:
            checked_cost_rules(config.cost_rules, config.costs_layout or layout_of_rules(config.cost_rules))
        except ValueError as exc:
            problems["cost_rules"] = T_("The cost rules cannot be used ({error}).", error=str(exc)[:200])
    return problems


def sftp_server_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Check the utility's SFTP server: host, login, a usable private key, the host key fingerprint."""
    from bolletta.platform.sftp.poller import PollError, load_private_key

    poll = config.sftp_poll
    if poll is None:
        return {}
    problems: Problems = {}
    if not step_checks.HOST_NAME.match(poll.host) and not _is_ip_address(poll.host):
        problems["sftp_poll.host"] = T_("{value} is not a host name such as bolletta.acme.it.", value=poll.host[:80])
    if not poll.username.strip():
        problems["sftp_poll.username"] = T_("Enter the username of the SFTP login.")
    if not poll.password and not poll.private_key:
        problems["sftp_poll.password"] = T_("Give the SFTP login a password, a private key, or both.")
    if poll.private_key:
        try:
            load_private_key(poll.private_key)
        except PollError:
            problems["sftp_poll.private_key"] = T_(
                "The private key cannot be used: paste an unencrypted Ed25519, ECDSA or RSA key.")
    if not poll.host_key_fingerprint.startswith("SHA256:"):
        problems["sftp_poll.host_key_fingerprint"] = T_(
            "{value} is not a SHA-256 host key fingerprint such as SHA256:1Nf3...",
            value=poll.host_key_fingerprint[:80])
    if poll.after_download not in AFTER_DOWNLOAD:
        problems["sftp_poll.after_download"] = T_("{value} is not a choice; use {choices}.", value=poll.after_download,
                                                  choices=", ".join(AFTER_DOWNLOAD))
    return problems


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def no_problems(section: Section, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Sections whose inputs are only numbers in a range and switches, checked when the form is read."""
    return {}


CHECKS: dict[str, Callable[[Section, TenantConfig, Database, Tenant], Problems]] = {
    "company": company_problems, "page": page_problems, "channels": channels_problems,
    "whatsapp": whatsapp_problems, "images": no_problems,
    "contacts": contacts_problems, "quiet-hours": quiet_hours_problems, "dispatch": dispatch_problems,
    "payments": payments_problems, "flow": flow_problems, "sftp-server": sftp_server_problems,
    "retention": no_problems, "security": no_problems,
}
"""The check of each section, by section name."""


def section_problems(name: str, config: TenantConfig, db: Database, tenant: Tenant) -> Problems:
    """Run the check of section ``name`` on the settings as they would be saved."""
    return CHECKS[name](SECTIONS[name], config, db, tenant)
