"""A tenant's settings, stored encoded on its platform row and edited by admins."""

from __future__ import annotations

import logging
from typing import Annotated

import msgspec

logger = logging.getLogger(__name__)


class Branding(msgspec.Struct, kw_only=True):
    """Colours and names of the tenant's customer pages and messages."""

    display_name: str = ""
    """Name shown on pages and in messages; the tenant's legal name when empty."""
    primary_color: str = "#0b4f8a"
    """Header and button colour (CSS hex)."""
    accent_color: str = "#f2a900"
    text_on_primary: str = "#ffffff"
    support_phone: str = ""
    support_email: str = ""
    website: str = ""


class PortalSettings(msgspec.Struct, kw_only=True):
    """How the customer pages of the tenant look and speak."""

    languages: list[str] = msgspec.field(default_factory=lambda: ["it", "en"])
    """Page languages offered, from ``it``, ``en``, ``de``, ``fr``, ``es``, ``ro`` and ``ar``; Italian is
    always offered."""
    use_customer_language: bool = True
    """Open pages in the customer's language from the flow or the contacts when it is offered."""
    voices: dict[str, str] = {}
    """Page language to the Piper voice id that reads the summary aloud (``en`` to
    ``en_US-joe-medium``); a language without one uses the browser's speech synthesis."""
    section_order: list[str] = []
    """Section slugs (``sommario``, ``importi``, ``consumi``, ``dati``) in tab order; missing ones follow."""
    hidden_sections: list[str] = []
    """Sections never shown; the summary cannot be hidden."""
    glossary: dict[str, dict[str, str]] = {}
    """Page language to {line description as the flow sends it: its translation}."""
    privacy_url: str = ""
    """The utility's privacy notice, linked from "I tuoi dati"."""
    extra_links: dict[str, list[tuple[str, str]]] = {}
    """Section slug to ``[label, URL]`` links shown at the end of that section."""
    blocks: dict[str, str] = {}
    """Section slug to a Jinja2 fragment rendered in the sandbox with plain bill data."""
    font: str = "system"
    """A font of :data:`bolletta.themes.FONTS`."""
    logo_url: str = ""
    """Path of the logo under our own static files or tenant assets; never a third-party address."""


class MessageTexts(msgspec.Struct, kw_only=True):
    """The tenant's own message texts in one language: Jinja2 templates rendered in the sandbox.

    An empty text means the tenant has none for that kind in this language, so that kind goes out
    in Italian. An e-mail needs ``email_subject`` and ``email_text``; ``email_html`` is optional.
    """

    sms: str = ""
    whatsapp: str = ""
    email_subject: str = ""
    email_text: str = ""
    email_html: str = ""


class WhatsappTemplate(msgspec.Struct, kw_only=True):
    """A WhatsApp template Meta approved for the tenant, and which bill field fills each parameter.

    Business-initiated WhatsApp messages may only use approved templates, so the text itself lives
    at Meta; the platform sends the template's name, language and parameter values.
    """

    name: str = ""
    """The template's name as approved, such as ``bolletta_pronta``."""
    language_code: str = ""
    """The template's language code at Meta, such as ``it`` or ``en_US``."""
    category: str = "UTILITY"
    """The category Meta approved the template in; a bill notice must be a ``UTILITY`` template."""
    body_parameters: list[str] = []
    """The bill field of each body parameter ``{{1}}``, ``{{2}}``..., in order: ``utility``,
    ``service_label``, ``document_number``, ``due_date`` or ``link``."""
    url_button: bool = False
    """Whether the template has a dynamic URL button whose suffix is the link's token."""

    def __post_init__(self) -> None:
        # Meta spells its categories in upper case, and ``utility`` typed in a form means the same one.
        self.category = self.category.strip().upper()


class TestRecipient(msgspec.Struct, kw_only=True):
    """A member of the utility's staff who receives the test batch.

    In JSON: ``{"channel": "sms", "address": "+393331234567"}``. :func:`save_config
    <bolletta.tenants.registry.save_config>` rejects a kind or address that cannot receive it
    (:func:`bolletta.tenants.addresses.test_recipient_errors`).
    """

    channel: str
    """``email``, ``sms`` or ``whatsapp``."""
    address: str
    """An e-mail address, or a mobile number (Italian when it has no ``+`` prefix) for SMS and WhatsApp."""


GIB = 1024**3
MAX_TEST_BATCH_SIZE = 50
MAX_TICKET_VALIDITY_DAYS = 365
MAX_TEST_TICKET_VALIDITY_HOURS = 14 * 24
MAX_FALLBACK_DELAY_MINUTES = 7 * 24 * 60
MAX_RECONCILE_AFTER_MINUTES = 7 * 24 * 60
MIN_RECONCILE_AFTER_MINUTES = 15
"""A pending payment younger than this is likely still on the gateway's page (an estimate, not a gateway figure)."""


class SftpPollSettings(msgspec.Struct, kw_only=True):
    """The utility's own SFTP server, from which the platform downloads billing flows.

    A file is taken once a marker file with the same name plus ``.done`` exists beside it (for
    ``flusso.zip``, ``flusso.zip.done``). After its job is opened, the file and its marker are moved
    to ``processed_dir`` or deleted.
    """

    host: str
    port: int = 22
    username: str
    password: str = ""
    """Password login; used when ``private_key`` is empty. Stored encrypted, see
    :mod:`bolletta.platform.sftp.credentials`."""
    private_key: str = ""
    """OpenSSH or PEM private key text (Ed25519, ECDSA or RSA), without passphrase. Stored encrypted
    like ``password``."""
    host_key_fingerprint: str
    """SHA-256 fingerprint of the server's host key (``SHA256:...``); a different key is rejected."""
    remote_dir: str = "."
    """Folder on the server where the utility puts its flows."""
    after_download: str = "move"
    """``move`` to ``processed_dir``, or ``delete``."""
    processed_dir: str = "processed"
    """Folder for files already taken, relative to ``remote_dir`` unless absolute."""
    max_file_bytes: int = 2 * GIB
    """Files larger than this are skipped and logged."""
    timeout_seconds: float = 30.0
    """Network timeout for the connection, the login and each SFTP request."""
    interval_minutes: Annotated[int, msgspec.Meta(ge=0)] = 15
    """Minutes between two polls by the scheduler; 0 polls only on demand (``bolletta sftp poll``)."""


class QuietHours(msgspec.Struct, kw_only=True):
    """Hours in which messages of some kinds wait instead of going out (spec section 2, point 8)."""

    start: str = "21:00"
    """Local time the quiet period starts (``HH:MM``)."""
    end: str = "08:00"
    """Local time it ends; earlier than ``start`` means it runs over midnight."""
    timezone: str = "Europe/Rome"
    kinds: list[str] = msgspec.field(default_factory=lambda: ["sms", "whatsapp"])
    """Message kinds that wait; e-mail goes any time by default."""


class RetentionSettings(msgspec.Struct, kw_only=True):
    """How long the platform keeps a tenant's data; the daily purge deletes what is older.

    The platform is the utility's processor, not its archive. The utility keeps its invoices in its
    own systems for as long as tax law requires.
    """

    bill_months: Annotated[int, msgspec.Meta(ge=1, le=120)] = 24
    """Months a bill's data, PDFs, audio, tickets, messages and payments are kept after its last ticket
    expires or it is paid, whichever is later. A tenant whose contract makes the platform its archive
    may raise it to 120 (10 years)."""
    event_months: Annotated[int, msgspec.Meta(ge=1, le=120)] = 24
    """Months customer events (links opened, pages viewed, payments) are kept; staff list exports and
    settled webhook deliveries, which can list customers, are kept as long."""
    audit_years: Annotated[int, msgspec.Meta(ge=10, le=30)] = 10
    """Years audit entries are kept; at least 10."""


class TenantConfig(msgspec.Struct, kw_only=True):
    """Everything a tenant can set, with the defaults a new tenant starts from."""

    branding: Branding = msgspec.field(default_factory=Branding)
    vat_number: str = ""
    """The utility's Partita IVA; bills whose seller has another VAT number get a warning for approval."""
    link_domain: str = ""
    """Host of customer links (``bolletta.acme.it``); unused when the path prefix is on."""
    notification_emails: list[str] = []
    """Staff e-mailed about job events (opened, parsed, failed, test batch, dispatch)."""
    test_recipients: list[TestRecipient] = []
    test_batch_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_TEST_BATCH_SIZE)] = 5
    """How many bills the test batch holds."""
    ticket_validity_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_TICKET_VALIDITY_DAYS)] = 15
    """Days a customer link stays valid."""
    test_ticket_validity_hours: Annotated[int, msgspec.Meta(ge=1, le=MAX_TEST_TICKET_VALIDITY_HOURS)] = 48
    """Hours a link of the test batch stays valid."""
    channel_plugins: dict[str, str] = msgspec.field(
        default_factory=lambda: {"email": "smtp", "sms": "outbox", "whatsapp": "outbox"}
    )
    """Channel kind to the plugin id that sends it; a kind not listed is not sent."""
    channel_settings: dict[str, dict[str, object]] = {}
    """Plugin id to its settings (the plugin's ``Settings`` struct as a mapping)."""
    channel_accounts: dict[str, str] = {}
    """Channel kind to the name of a platform shared account that sends it. A kind not listed or
    mapped to an empty name uses the tenant's own account (``channel_settings``). The account's
    plugin must be the kind's plugin in ``channel_plugins``."""
    enabled_channels: list[str] = msgspec.field(default_factory=lambda: ["smtp", "outbox"])
    """Channel plugin ids a platform admin enabled for this tenant; any other plugin stays off."""
    contact_sources: list[str] = msgspec.field(default_factory=lambda: ["flow", "job_csv", "directory"])
    """Where dispatch takes contacts from: ``flow`` (inside the flow), ``job_csv`` (a contacts CSV with
    the job) and ``directory`` (the contacts directory). For each bill the first of them that has any
    contact wins, in that fixed order; a source not listed is ignored."""
    channel_mode: str = "all"
    """``all``: one message per known contact; ``priority``: the first contact in
    ``channel_priority`` order, then the next one as a fallback when it is refused or fails."""
    channel_priority: list[str] = msgspec.field(default_factory=lambda: ["whatsapp", "sms", "email"])
    fallback_delay_minutes: Annotated[int, msgspec.Meta(ge=0, le=MAX_FALLBACK_DELAY_MINUTES)] = 60
    """Minutes after a refusal or failure before the next channel is tried (``priority`` mode, and
    for suppressed contacts in either mode)."""
    quiet_hours: QuietHours = msgspec.field(default_factory=QuietHours)
    bills_by_email: str = "off"
    """Bills by e-mail ("Boll. x email") for customers who chose it: ``off``, ``attach`` (PDF
    attached) or ``link`` (the personal link only)."""
    enabled_gateways: list[str] = msgspec.field(default_factory=lambda: ["sandbox"])
    gateway_settings: dict[str, dict[str, object]] = {}
    """Plugin id to its settings; secret fields are encrypted (save them with
    ``bolletta.platform.payments.gateways.save_gateway_settings``)."""
    payment_reconcile_after_minutes: Annotated[
        int, msgspec.Meta(ge=MIN_RECONCILE_AFTER_MINUTES, le=MAX_RECONCILE_AFTER_MINUTES)] = 120
    """Age in minutes after which the nightly reconciliation asks the gateway about a pending payment."""
    email_sender: str = ""
    """From address of customer e-mails, e.g. ``ACME Energia <bolletta@acme.example>``."""
    sms_sender: str = ""
    """SMS alias: at most 11 characters, not starting with a digit."""
    may_start_dispatch: bool = False
    require_totp: bool = False
    """Whether the tenant's staff must sign in with a TOTP code as well as their password."""
    """Whether the tenant's operators may press "Avvia inoltro" themselves after approval."""
    customer_code_source: str = "fiscal_code"
    """Where FatturaPA bills take the customer code from: ``fiscal_code`` (``CodiceFiscale``, else
    the VAT number), ``altri_dati:<TipoDato>`` or ``id_documento_contratto``."""
    series_pattern: str = ""
    """Regular expression with optional ``series`` and ``year`` groups, matched against the whole
    document number; empty means no series and the issue date's year."""
    supply_address_types: list[str] = msgspec.field(default_factory=lambda: ["Ind.POD", "Ind.PDR"])
    """``AltriDatiGestionali/TipoDato`` values whose ``RiferimentoTesto`` is the supply address,
    compared ignoring case and punctuation."""
    cost_rules: list[tuple[str, str]] = []
    """Ordered ``[keyword, category]`` pairs that classify FatturaPA lines by their description, the
    first match winning; empty means the default table for the ARERA wording
    (``bolletta.platform.ingest.cost_categories.DEFAULT_COST_RULES``). A table that uses a quota
    category (``consumption_quota``, ``fixed_quota``, ``power_quota``, optionally with ``/sale`` or
    ``/network_system``) selects the ``receipt_2025`` layout, and its categories must then be those
    of that layout."""
    costs_layout: str = ""
    """``summary_2016`` (the regulated summary categories) or ``receipt_2025`` (the receipt-style
    layout for electricity and gas from July 2025); empty follows ``cost_rules`` and otherwise the
    2016 layout."""
    flow_formats: list[str] = msgspec.field(default_factory=lambda: ["fatturapa", "fatturapa_signed", "jsonl"])
    """Ids of the flow reader plugins this tenant's archives may use; a third-party reader reads
    nothing until its id is listed here."""
    sftp_quota_bytes: int = 20 * GIB
    """Bytes the tenant's SFTP area may hold, counting stored files and uploads in progress."""
    sftp_poll: SftpPollSettings | None = None
    """The utility's SFTP server to download flows from; ``None`` when the utility uploads to ours."""
    portal: PortalSettings = msgspec.field(default_factory=PortalSettings)
    """Languages, voices, sections and theme of the customer pages."""
    retention: RetentionSettings = msgspec.field(default_factory=RetentionSettings)
    """How long bill data, events and the audit trail are kept."""
    whatsapp_templates: dict[str, WhatsappTemplate] = {}
    """Page language to the approved WhatsApp template of messages in that language. A language
    without one uses the Italian template, else the WhatsApp channel's own settings."""
    email_header_key: str = ""
    """Storage key (under the tenant's prefix) of the image shown at the top of HTML e-mails and
    sent as an inline part; empty means none."""
    email_header_type: str = ""
    """Content type of that image: ``image/png`` or ``image/jpeg``."""
    message_texts: dict[str, MessageTexts] = {}
    """Language to the tenant's message texts in it. A customer whose language (from the flow or the
    contacts) is one of ``portal.languages`` gets a message of a kind the tenant wrote in that
    language; every other message uses the tenant's Italian texts, else the product's."""


def decode_config(raw: dict[str, object] | None) -> TenantConfig:
    """Build a :class:`TenantConfig` from its stored mapping, filling defaults.

    A top-level number stored outside its ``Meta`` range, saved before the range was enforced, is
    read as the nearest allowed value and logged, so the tenant stays usable until it is corrected.
    """
    return msgspec.convert(_within_ranges(raw or {}), TenantConfig)


def _within_ranges(raw: dict[str, object]) -> dict[str, object]:
    fixed = dict(raw)
    for name, (low, high) in _RANGES.items():
        value = fixed.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        allowed = min(max(value, low), high)
        if allowed != value:
            if (name, value) not in _LOGGED_OUT_OF_RANGE:  # settings are decoded on every request
                _LOGGED_OUT_OF_RANGE.add((name, value))
                logger.warning("stored tenant setting %s=%d is outside %d to %d; %d is used until it is saved again",
                               name, value, low, high, allowed)
            fixed[name] = allowed
    return fixed


_LOGGED_OUT_OF_RANGE: set[tuple[str, int]] = set()


_RANGES = {
    field.encode_name: (field.type.ge, field.type.le)  # type: ignore[attr-defined]
    for field in msgspec.inspect.type_info(TenantConfig).fields  # type: ignore[attr-defined]
    if isinstance(field.type, msgspec.inspect.IntType) and field.type.ge is not None and field.type.le is not None
}
"""The ``Meta`` range of each top-level integer setting that has both limits."""


def encode_config(config: TenantConfig) -> dict[str, object]:
    """Encode ``config`` as the mapping stored on the tenant row."""
    return msgspec.to_builtins(config)  # type: ignore[no-any-return]
