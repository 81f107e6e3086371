"""The sections of a tenant's settings after activation, their form inputs, and who may change which.

A field's ``path`` is the dotted place of the value in :class:`~bolletta.tenants.config.TenantConfig`
(``branding.primary_color``, ``portal.blocks.sommario``), and it is also the name of the form input.
Each section owns whole top-level settings (:attr:`Section.keys`), so restoring a section's earlier
version never touches another section.
"""

from __future__ import annotations

from dataclasses import dataclass

from bolletta.platform.i18n.dynamic_ids import N_
from bolletta.platform.portal.language import PAGE_LANGUAGES
from bolletta.tenants.config import (
    MAX_FALLBACK_DELAY_MINUTES,
    MAX_RECONCILE_AFTER_MINUTES,
    MAX_TEST_BATCH_SIZE,
    MAX_TEST_TICKET_VALIDITY_HOURS,
    MAX_TICKET_VALIDITY_DAYS,
    MIN_RECONCILE_AFTER_MINUTES,
)
from bolletta.themes.check import SECTIONS as PAGE_SECTIONS

PLATFORM_ONLY_SETTINGS: tuple[str, ...] = (
    "link_domain",
    "sftp_quota_bytes",
    "sftp_poll",
    "flow_formats",
    "customer_code_source",
    "series_pattern",
    "supply_address_types",
    "cost_rules",
    "costs_layout",
    "enabled_channels",
    "channel_plugins",
    "channel_settings",
    "channel_accounts",
    "enabled_gateways",
    "gateway_settings",
    "may_start_dispatch",
    "retention.audit_years",
)
"""Settings only a platform admin changes; a tenant admin sees them read-only or not at all.

The link domain needs DNS and a certificate on our side. The SFTP quota, the enabled plugins, the
plugin and the platform shared account per message kind and the plugins' credentials decide what
the platform pays for or holds secrets of. The flow formats and mapping decide how our readers
parse the utility's archives, and a wrong value fails every job. Whether the utility starts its
own dispatches is a permission the operator grants. The audit trail is the platform's own
accountability record, so its retention stays with the operator. The server rejects a tenant
admin's form that carries any of these inputs, and a tenant admin cannot restore a version that
would change one.
"""


@dataclass(frozen=True)
class Field:
    """One input of a settings section."""

    path: str
    """Dotted place of the value in ``TenantConfig``; also the input's name."""
    label: str
    """English msgid of the label."""
    kind: str = "text"
    """``text``, ``email``, ``number``, ``decimal``, ``checkbox``, ``choice``, ``color``, ``textarea``, ``secret`` and
    ``secret_text`` (never shown, left empty to keep the stored value), ``lines`` (one value a
    line), ``recipients`` (``<channel> <address>`` a line), ``pairs`` (``key = value`` a line, a
    mapping), ``rules`` (``keyword = category`` a line, a list of pairs), ``glossary``
    (``language: description = translation`` a line) or ``links`` (``section | label | URL`` a line).
    An ``image`` field is set by an upload form and never read from a settings form."""
    minimum: int | None = None
    """Smallest value a ``number`` accepts."""
    maximum: int | None = None
    """Largest value a ``number`` accepts."""
    choices: tuple[tuple[str, str], ...] = ()
    """For a ``choice`` (a select): each stored value with the English msgid of its option label."""

    @property
    def platform_only(self) -> bool:
        """True when only a platform admin may change this field."""
        return is_platform_only(self.path)


def is_platform_only(path: str) -> bool:
    """True when ``path`` is, or lies inside, a setting of :data:`PLATFORM_ONLY_SETTINGS`."""
    return any(path == name or path.startswith(f"{name}.") for name in PLATFORM_ONLY_SETTINGS)


@dataclass(frozen=True)
class Section:
    """A group of settings edited on one page."""

    name: str
    """The section's id in URLs."""
    title: str
    """English msgid of the page title."""
    fields: tuple[Field, ...]
    restorable: bool = True
    """False for a section holding credentials, which the version history redacts."""

    @property
    def keys(self) -> tuple[str, ...]:
        """The top-level settings this section owns, in the order of its fields."""
        return tuple(dict.fromkeys(item.path.split(".", 1)[0] for item in self.fields))

    def field(self, path: str) -> Field | None:
        """Return the field at ``path``, or ``None`` when the section has none there."""
        return next((item for item in self.fields if item.path == path), None)


def _whatsapp_fields() -> tuple[Field, ...]:
    fields: list[Field] = []
    for language in PAGE_LANGUAGES:
        template = f"whatsapp_templates.{language}"
        fields += [Field(f"{template}.name", N_("Approved WhatsApp template")),
                   Field(f"{template}.language_code", N_("Language code of the template")),
                   Field(f"{template}.category", N_("Category of the template at Meta")),
                   Field(f"{template}.body_parameters", N_("Bill field of each template parameter, one per line"),
                         "lines"),
                   Field(f"{template}.url_button", N_("The template has a URL button that opens the link"),
                         "checkbox")]
    return tuple(fields)


SECTION_LIST = (
    Section("company", N_("Company and branding"), (
        Field("vat_number", N_("VAT number (partita IVA)")),
        Field("notification_emails", N_("Addresses for job e-mails, one per line"), "lines"),
        Field("branding.display_name", N_("Name shown to customers")),
        Field("branding.primary_color", N_("Main colour"), "color"),
        Field("branding.accent_color", N_("Accent colour"), "color"),
        Field("branding.text_on_primary", N_("Text on the main colour"), "color"),
        Field("branding.support_phone", N_("Customer service phone")),
        Field("branding.support_email", N_("Customer service e-mail"), "email"),
        Field("branding.website", N_("Website")),
        Field("link_domain", N_("Domain of the customer links")),
    )),
    Section("page", N_("Customer page"), (
        Field("portal.languages", N_("Languages of the bill pages, one per line"), "lines"),
        Field("portal.use_customer_language", N_("Open the page in the customer's language"), "checkbox"),
        Field("portal.voices", N_("Read-aloud voice per language, one per line: language = voice"), "pairs"),
        Field("portal.font", N_("Font")),
        Field("portal.logo_url", N_("Logo path on this site")),
        Field("portal.section_order", N_("Order of the sections, one per line"), "lines"),
        Field("portal.hidden_sections", N_("Hidden sections, one per line"), "lines"),
        Field("portal.privacy_url", N_("Privacy notice link")),
        Field("portal.glossary", N_("Glossary, one per line: language: description = translation"), "glossary"),
        Field("portal.extra_links", N_("Extra links, one per line: section | label | URL"), "links"),
        *(Field(f"portal.blocks.{name}", N_("Content block"), "textarea") for name in PAGE_SECTIONS),
    )),
    Section("channels", N_("Channels and senders"), (
        Field("email_sender", N_("E-mail sender"), "email"),
        Field("sms_sender", N_("SMS alias")),
        Field("bills_by_email", N_("Bills by e-mail"), "choice", choices=(
            ("off", N_("Not sent")), ("attach", N_("PDF attached")), ("link", N_("Personal link only")))),
        Field("channel_plugins.email", N_("E-mail plugin")),
        Field("channel_plugins.sms", N_("SMS plugin")),
        Field("channel_plugins.whatsapp", N_("WhatsApp plugin")),
        Field("channel_accounts.email", N_("Shared e-mail account (empty for the utility's own)")),
        Field("channel_accounts.sms", N_("Shared SMS account (empty for the utility's own)")),
        Field("channel_accounts.whatsapp", N_("Shared WhatsApp account (empty for the utility's own)")),
    )),
    Section("whatsapp", N_("Approved WhatsApp templates"), _whatsapp_fields()),
    Section("images", N_("Logo and e-mail image"), (
        Field("email_header_key", N_("Image at the top of the e-mails"), "image"),
        Field("email_header_type", N_("Type of the e-mail image"), "image"),
    )),
    Section("contacts", N_("Contact rules and fallback"), (
        Field("contact_sources", N_(
            "Where contacts come from, one per line: flow (the bill flow), job_csv (the contacts file of the job), "
            "directory (the contact directory)"), "lines"),
        Field("channel_mode", N_("Channel rule"), "choice", choices=(
            ("all", N_("Every channel at once")), ("priority", N_("One channel at a time, in order of preference")))),
        Field("channel_priority", N_("Channels in order of preference, one per line: email, sms, whatsapp"),
              "lines"),
        Field("fallback_delay_minutes", N_("Minutes before the next channel"), "number", 0,
              MAX_FALLBACK_DELAY_MINUTES),
    )),
    Section("quiet-hours", N_("Quiet hours"), (
        Field("quiet_hours.start", N_("Quiet hours start")),
        Field("quiet_hours.end", N_("Quiet hours end")),
        Field("quiet_hours.timezone", N_("Time zone")),
        Field("quiet_hours.kinds", N_("Message kinds that wait, one per line: email, sms, whatsapp"), "lines"),
    )),
    Section("dispatch", N_("Dispatch"), (
        Field("ticket_validity_days", N_("Days a link stays valid"), "number", 1, MAX_TICKET_VALIDITY_DAYS),
        Field("test_ticket_validity_hours", N_("Hours a test link stays valid"), "number", 1,
              MAX_TEST_TICKET_VALIDITY_HOURS),
        Field("test_batch_size", N_("Bills in the test batch"), "number", 1, MAX_TEST_BATCH_SIZE),
        Field("test_recipients", N_("Test recipients, one per line: channel and address"), "recipients"),
        Field("may_start_dispatch", N_("The utility starts its own dispatches"), "checkbox"),
    )),
    Section("payments", N_("Payments"), (
        Field("enabled_gateways", N_("Payment gateways, one per line"), "lines"),
        Field("payment_reconcile_after_minutes", N_("Minutes before a pending payment is checked"), "number",
              MIN_RECONCILE_AFTER_MINUTES, MAX_RECONCILE_AFTER_MINUTES),
    )),
    Section("flow", N_("Flow formats and mapping"), (
        Field("flow_formats", N_("Flow formats, one per line"), "lines"),
        Field("customer_code_source", N_("Source of the customer code")),
        Field("series_pattern", N_("Pattern of the document number")),
        Field("supply_address_types", N_("TipoDato values of the supply address, one per line"), "lines"),
        Field("cost_rules", N_("Cost rules, one per line: keyword = category"), "rules"),
        Field("costs_layout", N_("Layout of the costs"), "choice", choices=(
            ("", N_("Read from the cost rules")), ("summary_2016", N_("Regulated summary (2016)")),
            ("receipt_2025", N_("Receipt style (2025)")))),
        Field("sftp_quota_bytes", N_("SFTP quota in bytes"), "number", 0),
    )),
    Section("sftp-server", N_("The utility's SFTP server"), (
        Field("sftp_poll.host", N_("Host (empty: the utility uploads to our SFTP server)")),
        Field("sftp_poll.port", N_("Port"), "number", 1, 65535),
        Field("sftp_poll.username", N_("Username")),
        Field("sftp_poll.password", N_("Password"), "secret"),
        Field("sftp_poll.private_key", N_("Private key (OpenSSH or PEM, without passphrase)"), "secret_text"),
        Field("sftp_poll.host_key_fingerprint", N_("Host key fingerprint (SHA256:...)")),
        Field("sftp_poll.remote_dir", N_("Folder of the flows")),
        Field("sftp_poll.after_download", N_("After download"), "choice", choices=(
            ("move", N_("Move to the folder for files already taken")), ("delete", N_("Delete from the server")))),
        Field("sftp_poll.processed_dir", N_("Folder for files already taken")),
        Field("sftp_poll.max_file_bytes", N_("Largest file in bytes"), "number", 1),
        Field("sftp_poll.timeout_seconds", N_("Network timeout in seconds"), "decimal", 1, 600),
        Field("sftp_poll.interval_minutes", N_("Minutes between polls (0: only on demand)"), "number", 0),
    ), restorable=False),
    Section("retention", N_("Retention"), (
        Field("retention.bill_months", N_("Months bills are kept after expiry or payment"), "number", 1, 120),
        Field("retention.event_months", N_("Months events are kept"), "number", 1, 120),
        Field("retention.audit_years", N_("Years the audit trail is kept"), "number", 10, 30),
    )),
    Section("security", N_("Security"), (
        Field("require_totp", N_("Staff sign in with a TOTP code as well"), "checkbox"),
    )),
)
"""Every section in the order of the settings menu. The message texts have their own editor.

The ``images`` section's page contains the upload forms of the logo and of the e-mail header image.
The logo's address, ``portal.logo_url``, belongs to the ``page`` section, so its versions are
listed and restored there.
"""

SECTIONS = {section.name: section for section in SECTION_LIST}
