"""Contract between the platform and channel plugins (entry point group ``bolletta.channels``).

A channel plugin sends messages of one or more kinds (``sms``, ``whatsapp``, ``email``) through one
provider. To write one, subclass :class:`Channel`, fill in its class attributes, implement
:meth:`Channel.send`, and declare the class under the entry point group ``bolletta.channels``. The
entry point name is the plugin's id and must equal :attr:`Channel.id`. Everything else has a
default that means "not supported", so a plugin implements only what its provider offers:

=========================  ============================================================================
member                     what it is for
=========================  ============================================================================
``id``                     plugin id, equal to the entry point name
``name``, ``version``      shown in the platform admin's plugin catalogue
``contract_version``       the major version of this contract the plugin was written for
``capabilities``           kinds, batch size, max rate, unicode, delivery reports, status queries
``Settings``               msgspec struct of per-tenant settings; the settings form is built from it
``secret_fields``          ``Settings`` fields stored encrypted and never shown again
``api_base_urls``          production base URLs; a ``Settings`` field ``api_base_url`` overrides them
``send``                   send one message (required)
``send_batch``             send several messages in one provider call (default: one ``send`` each)
``verify_callback``        check a delivery report callback's signature
``parse_callback``         turn a verified callback into :class:`DeliveryReport` values
``answer_handshake``       answer a provider's subscription check (WhatsApp ``hub.challenge``)
``query_status``           ask the provider what became of one message (reconciliation, polling)
``check_credentials``      make a cheap authenticated call so the admin knows the credentials work
=========================  ============================================================================

A plugin imports only this module, :mod:`bolletta.channels.errors`, :mod:`bolletta.channels.sms`
and the standard library or its own dependencies, never other platform modules.
"""

from __future__ import annotations

import ssl
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

import msgspec

from bolletta.channels.errors import ChannelConfigError

CONTRACT_VERSION = 2
"""Major version of this contract. The loader rejects a plugin that declares another major version.

Version 2 added capabilities, batches, delivery report callbacks, status queries and API base URLs."""

MESSAGE_KINDS = frozenset({"sms", "whatsapp", "email"})
"""Every value :attr:`OutgoingMessage.kind` can take."""

REPORT_STATUSES = frozenset({"sent", "delivered", "read", "failed", "rejected", "unknown"})
"""Every value :attr:`DeliveryReport.status` can take.

``unknown`` means the provider does not know the message (it never accepted it); ``read`` is a
WhatsApp read receipt and implies ``delivered``."""


class Capabilities(msgspec.Struct, kw_only=True, frozen=True):
    """Capabilities of a channel and its provider; the platform plans sends and reconciliation from them."""

    kinds: frozenset[str]
    """Message kinds this channel sends, a subset of :data:`MESSAGE_KINDS`."""

    batch_size: int = 1
    """Maximum messages :meth:`Channel.send_batch` takes in one call; 1 means no batch API."""

    max_rate: float | None = None
    """Maximum messages per second one provider account accepts; ``None`` means no known limit.
    A tenant's settings may set a lower rate (field ``max_rate`` of the settings struct)."""

    unicode: bool = True
    """Whether the channel can send text outside the GSM-7 alphabet (UCS-2 SMS, any e-mail)."""

    delivery_reports: bool = False
    """Whether the provider pushes delivery report callbacks that :meth:`Channel.parse_callback` reads."""

    status_query: bool = False
    """Whether :meth:`Channel.query_status` queries the provider (used to reconcile ``uncertain`` messages
    and to poll for reports); ``False`` means messages of unknown outcome wait for a callback or staff."""

    idempotent_send: bool = False
    """Whether the provider drops a second request with the same :attr:`OutgoingMessage.idempotency_key`."""


class ProviderTemplate(msgspec.Struct, kw_only=True, frozen=True):
    """A template the provider approved (WhatsApp), chosen by the tenant for the message's language."""

    name: str
    language_code: str
    """The provider's code of the template's language, such as ``it`` or ``en_US``."""
    body_parameters: tuple[str, ...] = ()
    """For each body parameter in order, the key of :attr:`OutgoingMessage.template_params` that fills
    it, or ``link`` for the personal link."""
    url_button: bool = False
    """Whether the template's first URL button takes the link's last path part as its suffix."""


class OutgoingMessage(msgspec.Struct, kw_only=True, frozen=True):
    """One message for a channel to send."""

    kind: str
    """Message kind: ``'sms'``, ``'whatsapp'`` or ``'email'``; always one of the channel's ``kinds``."""

    to: str
    """Recipient: a phone number in E.164 form (``+393331234567``) or an e-mail address."""

    text: str
    """Plain text body: the whole SMS or WhatsApp text, or the text part of an e-mail."""

    idempotency_key: str
    """Key that stays the same when the platform sends this message again after a retry or a crash.
    Pass it to providers that support idempotent requests; you may also use it to drop duplicates,
    and to find the message again in :meth:`Channel.query_status`."""

    subject: str | None = None
    """E-mail subject; ``None`` for SMS and WhatsApp."""

    html: str | None = None
    """HTML part of an e-mail, if any; ``None`` for SMS and WhatsApp."""

    sender: str | None = None
    """SMS sender alias or e-mail ``From``; ``None`` means the channel's configured default."""

    reply_to: str | None = None
    """E-mail ``Reply-To``; ``None`` means the channel's configured default, if any."""

    tenant_slug: str = ""
    """Slug of the tenant the message belongs to, for provider-side tagging and log lines."""

    link: str = ""
    """The personal link the text carries; WhatsApp templates put its last path part in a URL button."""

    template_params: dict[str, str] = {}
    """Named values (``utility``, ``document_number``, ``due_date``, ``service_label``...) for
    provider-side templates (WhatsApp); never contains the customer's name or fiscal code."""

    language: str = "it"
    """Language of the message (ISO 639-1), for provider templates."""

    template: ProviderTemplate | None = None
    """The tenant's approved template for this message; ``None`` means the channel's own settings
    choose it. Channels without provider templates ignore it."""

    attachments: tuple[Attachment, ...] = ()
    """Files to attach (e-mail only): the bill PDF when the tenant sends bills by e-mail."""

    inline_images: tuple[Attachment, ...] = ()
    """Images the HTML refers to as ``cid:<content_id>`` (e-mail only)."""

    headers: dict[str, str] = {}
    """Extra e-mail headers (``List-Unsubscribe``, ``List-Unsubscribe-Post``); ignored by other kinds."""

    callback_url: str = ""
    """URL the provider posts this message's delivery reports to, for providers that take one per message."""


class Attachment(msgspec.Struct, kw_only=True, frozen=True):
    """A file attached to or embedded in an e-mail."""

    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    """For inline images: the id the HTML refers to as ``cid:<content_id>``."""


class SendResult(msgspec.Struct, kw_only=True, frozen=True):
    """Outcome of sending one message."""

    status: str
    """``'sent'`` (the provider accepted the message), ``'delivered'`` (the provider already confirmed
    delivery) or ``'rejected'`` (the provider rejected it for good)."""

    provider_message_id: str | None = None
    """The provider's id for the message, used to match later delivery reports."""

    error: str | None = None
    """For ``'rejected'``: the provider's reason (code and text), without personal data."""


class DeliveryReport(msgspec.Struct, kw_only=True, frozen=True):
    """A provider's status of one message, from a callback or a status query."""

    status: str
    """One of :data:`REPORT_STATUSES`."""

    provider_message_id: str | None = None
    """The provider's id of the message; at least this or ``idempotency_key`` is set."""

    idempotency_key: str | None = None
    """Our key, when the provider echoes it (Skebby ``order_id``, WhatsApp ``biz_opaque_callback_data``)."""

    at: datetime | None = None
    """Time the provider reports the status was reached (aware UTC), if it reports one."""

    error: str | None = None
    """Provider error code and text for ``failed`` and ``rejected``, without personal data."""

    opt_out: bool = False
    """The recipient asked the provider to stop messages (the platform adds them to the suppression list)."""

    event_id: str = ""
    """The provider's id of this report, when it has one; used only for logs."""


@dataclass(frozen=True, kw_only=True)
class CallbackRequest:
    """An HTTP request a provider made to the platform's callback URL for this channel."""

    method: str
    """``GET`` or ``POST``."""

    url: str
    """The full URL as the provider called it, scheme and query included (Twilio signs it)."""

    headers: Mapping[str, str]
    """Request headers with lower-case names."""

    body: bytes = b""
    """The raw body, exactly as received (signatures cover the raw bytes)."""

    query: Mapping[str, str] = field(default_factory=dict)
    """The query string's parameters."""


@dataclass(frozen=True, kw_only=True)
class StatusQuery:
    """The platform's data about a message whose status it requests from the provider."""

    idempotency_key: str
    to: str
    provider_message_id: str | None = None
    """``None`` when the process died before storing the provider's response."""
    sent_after: datetime | None = None
    """When the platform claimed the message for sending (aware UTC)."""


class MessageStore(Protocol):
    """Storage the platform lends to channels that keep messages instead of sending them."""

    def save(self, message: OutgoingMessage, plugin_id: str) -> str:
        """Store ``message`` on behalf of the plugin ``plugin_id`` and return the stored record's id."""
        ...

    def find(self, idempotency_key: str) -> str | None:
        """Return the id of the record stored for ``idempotency_key``, or ``None``."""
        ...


@dataclass(frozen=True, kw_only=True)
class ChannelContext:
    """Objects the platform passes to a channel instance besides its settings."""

    tenant_slug: str
    """Slug of the tenant this channel instance sends for."""

    store: MessageStore | None = None
    """Message storage, given to channels that keep messages (``outbox``); ``None`` otherwise."""

    callback_url: str = ""
    """Public URL of this tenant's callback endpoint for this plugin
    (``https://<host>/hooks/channels/<plugin>/<tenant>``); empty when the platform has none."""

    extra: Mapping[str, Any] = field(default_factory=dict)
    """Test hooks and platform services named by key (the SMTP channel's DNS resolver for DKIM)."""


class Channel(ABC):
    """Base class of every channel plugin.

    The platform creates one instance per tenant and settings version, and may call :meth:`send`
    from several worker threads at once, so keep per-call state in local variables.
    """

    id: ClassVar[str]
    """Plugin id: must equal the entry point name. Users see it in settings, so keep it short."""

    name: ClassVar[str]
    """Display name shown in the admin catalogue."""

    version: ClassVar[str]
    """Version of the plugin itself, shown in the admin catalogue."""

    capabilities: ClassVar[Capabilities]
    """The channel's capabilities; see :class:`Capabilities`."""

    contract_version: ClassVar[int] = CONTRACT_VERSION
    """Major contract version the plugin was written for. Set it explicitly in your plugin so that a
    future contract change makes the loader reject the plugin instead of calling it wrongly."""

    Settings: ClassVar[type[msgspec.Struct]]
    """msgspec struct of the per-tenant settings. The admin renders it as a form and validates it on
    save. Give every field a default where one makes sense. Two field names have a meaning:
    ``api_base_url`` (overrides ``api_base_urls["default"]``, so tests reach a fake server) and
    ``ca_bundle`` (path of a PEM file of trusted CAs; empty means the system store)."""

    secret_fields: ClassVar[frozenset[str]] = frozenset()
    """Names of ``Settings`` fields that hold secrets (passwords, API keys). The platform stores them
    encrypted and never shows them again after they are saved."""

    api_base_urls: ClassVar[Mapping[str, str]] = {}
    """Production base URLs of the provider's APIs by name (``default`` first)."""

    def __init__(self, settings: msgspec.Struct, context: ChannelContext) -> None:
        """Keep the settings and context; override only to prepare clients, and call this first.

        Raises:
            ChannelConfigError: ``settings`` is not an instance of the plugin's ``Settings``.
        """
        if not isinstance(settings, self.Settings):
            raise ChannelConfigError(
                f"channel {self.id!r} expects settings of type {self.Settings.__name__}, "
                f"got {type(settings).__name__}"
            )
        self.settings = settings
        self.context = context

    @property
    def kinds(self) -> frozenset[str]:
        """The message kinds of :attr:`capabilities`."""
        return self.capabilities.kinds

    # --- sending -------------------------------------------------------------------------------

    @abstractmethod
    def send(self, message: OutgoingMessage) -> SendResult:
        """Send one message; called from a worker thread, so block until the provider responds.

        Return status ``'rejected'`` when the provider rejects the message for good (invalid
        recipient, bad credentials, content rejected).

        Raises:
            ChannelUnavailable: a temporary failure (timeout, connection refused, HTTP 429 or 5xx,
                SMTP 4xx, a malformed response). The worker retries later with the same
                ``idempotency_key``; set ``retry_after`` when the provider said when.
            ChannelConfigError: the settings or context cannot work for any message.
        """

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        """Send up to ``capabilities.batch_size`` messages; return one result per message, in order.

        The default sends them one by one. A plugin whose provider takes several recipients in one
        request overrides it. It raises :class:`ChannelUnavailable` only when no message was taken.
        """
        return [self.send(message) for message in messages]

    # --- delivery reports ----------------------------------------------------------------------

    def verify_callback(self, request: CallbackRequest) -> bool:
        """Return whether the callback carries a valid signature from the provider.

        The default accepts nothing, so a plugin without callbacks never trusts one. Compare
        signatures in constant time (``hmac.compare_digest``).
        """
        return False

    def parse_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        """Turn a verified callback into delivery reports (one callback may hold several).

        Called only after :meth:`verify_callback` returned ``True``. Return an empty list for
        callbacks that carry no status (inbound messages, other events).

        Raises:
            ValueError: the body is malformed; the platform responds with 400 and logs it.
        """
        return []

    def answer_handshake(self, request: CallbackRequest) -> str | None:
        """Answer a provider's subscription check (a GET on the callback URL), or ``None`` for 404.

        WhatsApp sends ``hub.mode=subscribe``, ``hub.verify_token`` and ``hub.challenge`` and
        expects the challenge back when the token matches.
        """
        return None

    def query_status(self, query: StatusQuery) -> DeliveryReport | None:
        """Ask the provider for a message's status; ``None`` when this channel cannot ask.

        Return a report with status ``'unknown'`` when the provider reports it never took the
        message: only then does the platform send an ``uncertain`` message again.

        Raises:
            ChannelUnavailable: the provider could not answer now.
        """
        return None

    # --- onboarding ----------------------------------------------------------------------------

    def check_credentials(self) -> str | None:
        """Make the provider's cheapest authenticated call; return ``None`` when it accepted the
        credentials, else the provider's reason (code and text, no secret).

        It must send no message and cost nothing. The wizard calls it when an admin saves the
        channel's settings and shows the result next to them. The default raises
        :class:`NotImplementedError`, which means "this plugin cannot check", so the wizard shows
        nothing.

        Raises:
            ChannelUnavailable: the provider could not be reached or returned a server error.
        """
        raise NotImplementedError

    # --- helpers for plugins -------------------------------------------------------------------

    def api_base_url(self, name: str = "default") -> str:
        """Return the base URL of API ``name``: the settings' ``api_base_url`` for ``default`` when
        set, else the production default from :attr:`api_base_urls`."""
        override = getattr(self.settings, "api_base_url", "")
        if name == "default" and override:
            return str(override).rstrip("/")
        try:
            return self.api_base_urls[name].rstrip("/")
        except KeyError as exc:
            raise ChannelConfigError(f"channel {self.id!r} has no API base URL named {name!r}") from exc

    def tls_verify(self) -> ssl.SSLContext | bool:
        """Return what HTTP clients pass as ``verify``: a context trusting the settings' ``ca_bundle``
        only, or ``True`` for the system store."""
        bundle = getattr(self.settings, "ca_bundle", "")
        return ssl.create_default_context(cafile=str(bundle)) if bundle else True

    @classmethod
    def settings_from_dict(cls, data: Mapping[str, Any]) -> msgspec.Struct:
        """Validate stored or submitted settings and return them as the plugin's ``Settings``.

        Raises:
            ChannelConfigError: a field is missing or has the wrong type. The message names the
                field; msgspec repeats the value only for a choice outside a ``Literal``.
        """
        try:
            return msgspec.convert(dict(data), cls.Settings)
        except msgspec.ValidationError as exc:
            raise ChannelConfigError(f"invalid settings for channel {cls.id!r}: {exc}") from exc


def describe(plugin: type[Channel]) -> dict[str, Any]:
    """Return the catalogue entry of a plugin class: id, name, version, kinds and capabilities."""
    caps = plugin.capabilities
    return {
        "id": plugin.id,
        "name": plugin.name,
        "version": plugin.version,
        "kinds": sorted(caps.kinds),
        "contract_version": plugin.contract_version,
        "capabilities": msgspec.to_builtins(caps),
        "settings": [f for f in plugin.Settings.__struct_fields__],
        "secret_fields": sorted(plugin.secret_fields),
        "api_base_urls": dict(plugin.api_base_urls),
    }
