"""Contract between the platform and channel plugins (entry point group ``bolletta.channels``).

A channel plugin sends messages of one or more kinds (``sms``, ``whatsapp``, ``email``) through one
provider. To write one, subclass :class:`Channel`, fill in its class attributes, implement
:meth:`Channel.send`, and declare the class under the entry point group ``bolletta.channels``. The
entry point name is the plugin's id and must equal :attr:`Channel.id`.

A plugin imports only this module, :mod:`bolletta.channels.errors` and the standard library or its
own dependencies, never other platform modules.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import msgspec

from bolletta.channels.errors import ChannelConfigError

CONTRACT_VERSION = 1
"""Major version of this contract. The loader rejects a plugin that declares another major version."""

MESSAGE_KINDS = frozenset({"sms", "whatsapp", "email"})
"""Every value :attr:`OutgoingMessage.kind` can take."""


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
    Pass it to providers that support idempotent requests; you may also use it to drop duplicates."""

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


class SendResult(msgspec.Struct, kw_only=True, frozen=True):
    """Outcome of one :meth:`Channel.send` call."""

    status: str
    """``'sent'`` (the provider accepted the message), ``'delivered'`` (the provider already confirmed
    delivery) or ``'rejected'`` (the provider rejected it for good)."""

    provider_message_id: str | None = None
    """The provider's id for the message, used to match later delivery reports."""

    error: str | None = None
    """For ``'rejected'``: the provider's reason (code and text), without personal data."""


class MessageStore(Protocol):
    """Storage the platform lends to channels that keep messages instead of sending them."""

    def save(self, message: OutgoingMessage, plugin_id: str) -> str:
        """Store ``message`` on behalf of the plugin ``plugin_id`` and return the stored record's id."""
        ...


@dataclass(frozen=True, kw_only=True)
class ChannelContext:
    """Objects the platform passes to a channel instance besides its settings."""

    tenant_slug: str
    """Slug of the tenant this channel instance sends for."""

    store: MessageStore | None = None
    """Message storage, given to channels that keep messages (``outbox``); ``None`` otherwise."""


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

    kinds: ClassVar[frozenset[str]]
    """Message kinds this channel sends, a subset of :data:`MESSAGE_KINDS`."""

    contract_version: ClassVar[int] = CONTRACT_VERSION
    """Major contract version the plugin was written for. Set it explicitly in your plugin so that a
    future contract change makes the loader reject the plugin instead of calling it wrongly."""

    Settings: ClassVar[type[msgspec.Struct]]
    """msgspec struct of the per-tenant settings. The admin renders it as a form and validates it on
    save. Give every field a default where one makes sense."""

    secret_fields: ClassVar[frozenset[str]] = frozenset()
    """Names of ``Settings`` fields that hold secrets (passwords, API keys). The platform stores them
    encrypted and never shows them again after they are saved."""

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

    @abstractmethod
    def send(self, message: OutgoingMessage) -> SendResult:
        """Send one message; called from a worker thread, so block until the provider responds.

        Return status ``'rejected'`` when the provider rejects the message for good (invalid
        recipient, bad credentials, content rejected).

        Raises:
            ChannelUnavailable: a temporary failure (timeout, connection refused, HTTP 5xx, SMTP
                4xx). The worker retries the message later with the same ``idempotency_key``.
            ChannelConfigError: the settings or context cannot work for any message.
        """

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
