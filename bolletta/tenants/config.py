"""A tenant's settings, stored encoded on its platform row and edited by admins."""

from __future__ import annotations

import msgspec


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


class TestRecipient(msgspec.Struct, kw_only=True):
    """A member of the utility's staff who receives the test batch."""

    channel: str
    """``email``, ``sms`` or ``whatsapp``."""
    address: str


class TenantConfig(msgspec.Struct, kw_only=True):
    """Everything a tenant can set, with the defaults a new tenant starts from."""

    branding: Branding = msgspec.field(default_factory=Branding)
    link_domain: str = ""
    """Host of customer links (``bolletta.acme.it``); unused when the path prefix is on."""
    notification_emails: list[str] = []
    """Staff e-mailed about job events (opened, parsed, failed, test batch, dispatch)."""
    test_recipients: list[TestRecipient] = []
    test_batch_size: int = 5
    """How many bills the test batch holds."""
    ticket_validity_days: int = 15
    test_ticket_validity_hours: int = 48
    channel_plugins: dict[str, str] = msgspec.field(
        default_factory=lambda: {"email": "smtp", "sms": "outbox", "whatsapp": "outbox"}
    )
    """Channel kind to the plugin id that sends it; a kind not listed is not sent."""
    channel_settings: dict[str, dict[str, object]] = {}
    """Plugin id to its settings (the plugin's ``Settings`` struct as a mapping)."""
    enabled_gateways: list[str] = msgspec.field(default_factory=lambda: ["sandbox"])
    gateway_settings: dict[str, dict[str, object]] = {}
    email_sender: str = ""
    """From address of customer e-mails, e.g. ``ACME Energia <bolletta@acme.example>``."""
    sms_sender: str = ""
    """SMS alias: at most 11 characters, not starting with a digit."""
    may_start_dispatch: bool = False
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
    (``bolletta.platform.ingest.cost_categories.DEFAULT_COST_RULES``)."""


def decode_config(raw: dict[str, object] | None) -> TenantConfig:
    """Build a :class:`TenantConfig` from its stored mapping, filling defaults."""
    return msgspec.convert(raw or {}, TenantConfig)


def encode_config(config: TenantConfig) -> dict[str, object]:
    """Encode ``config`` as the mapping stored on the tenant row."""
    return msgspec.to_builtins(config)  # type: ignore[no-any-return]
