"""Contract between the platform and payment gateway plugins (entry point group ``bolletta.gateways``).

Payments are two-phase. :meth:`Gateway.prepare` registers the order with the provider and returns
the page the customer is sent to; it never moves money. The money moves on the provider's hosted
page, and the platform learns the outcome only from a notification it verifies with
:meth:`Gateway.verify_notification`, or from :meth:`Gateway.query_status`. The customer's return
to ``return_url`` never marks anything paid.

To write a gateway, subclass :class:`Gateway`, fill in its class attributes, implement the abstract
methods and declare the class under the entry point group ``bolletta.gateways``. The entry point
name is the plugin's id and must equal :attr:`Gateway.id`. A plugin imports only this module,
:mod:`bolletta.gateways.errors` and the standard library or its own dependencies.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from bolletta.gateways.errors import GatewayConfigError, RefundNotSupported

CONTRACT_VERSION = 1
"""Major version of this contract. The loader rejects a plugin that declares another major version."""

NOTIFICATION_STATUSES = frozenset({"completed", "failed", "cancelled", "pending"})
"""Every value :attr:`Notification.status` can take."""


class PaymentRequest(msgspec.Struct, kw_only=True, frozen=True):
    """One payment attempt for a gateway to prepare."""

    payment_id: str
    """The platform's id of the payment attempt."""

    order_id: str
    """Order id sent to the provider, unique per attempt and within the provider's length limits."""

    amount: Decimal
    """Amount to pay in ``currency`` units (``Decimal('84.20')``), taken from the stored bill."""

    currency: str
    """ISO 4217 code, for example ``EUR``."""

    description: str
    """Order description the provider shows, such as ``Bolletta luce n. 2023/B002/6452``."""

    return_url: str
    """Page the provider sends the customer to after paying. Reaching it proves nothing."""

    cancel_url: str
    """Page the provider sends the customer to after cancelling."""

    notify_url: str
    """URL the provider posts server-to-server notifications to, one per tenant and plugin."""

    tenant_slug: str
    """Slug of the tenant the payment belongs to."""

    language: str = "it"
    """ISO 639-1 language of the customer's pages, for the provider's hosted page."""


class PreparedPayment(msgspec.Struct, kw_only=True, frozen=True):
    """Result of :meth:`Gateway.prepare`."""

    redirect_url: str
    """Page the platform redirects the customer to (the provider's hosted payment page)."""

    provider_reference: str | None = None
    """The provider's id for the order or session, stored on the payment attempt for reconciliation."""


class Notification(msgspec.Struct, kw_only=True, frozen=True):
    """A verified statement from the provider about one order."""

    order_id: str
    """The order id given in :attr:`PaymentRequest.order_id`."""

    status: str
    """``'completed'``, ``'failed'``, ``'cancelled'`` or ``'pending'``."""

    amount: Decimal
    """Amount the provider reports, in ``currency`` units. The platform compares it with the
    attempt's stored amount before changing anything."""

    currency: str
    """ISO 4217 code the provider reports."""

    merchant: str | None = None
    """Merchant account the provider reports, when it reports one."""

    provider_reference: str | None = None
    """The provider's id for the order or transaction."""

    event_id: str | None = None
    """The provider's id for this notification; the platform drops a notification it has seen."""


class GatewayCapabilities(msgspec.Struct, kw_only=True, frozen=True):
    """Optional features a gateway implements beyond the two required phases."""

    refund: bool = False
    """:meth:`Gateway.refund` moves money back through the provider's API."""

    partial_refund: bool = False
    """:meth:`Gateway.refund` accepts an amount lower than the paid amount."""

    query_status: bool = False
    """:meth:`Gateway.query_status` requests an order's status from the provider."""


@dataclass(frozen=True, kw_only=True)
class GatewayContext:
    """Objects the platform passes to a gateway instance besides its settings."""

    tenant_slug: str
    """Slug of the tenant this gateway instance takes payments for."""

    public_base_url: str
    """Base URL of the platform as customers and providers reach it, without a trailing slash."""

    signing_key: bytes = field(repr=False)
    """Key for signatures the plugin makes itself, derived by the platform for this tenant and
    plugin. It differs between tenants, so one tenant's signature never verifies for another."""


class Gateway(ABC):
    """Base class of every payment gateway plugin.

    The platform creates one instance per tenant and settings version and may call it from several
    threads at once, so keep per-call state in local variables.
    """

    id: ClassVar[str]
    """Plugin id: must equal the entry point name. Users see it in settings, so keep it short."""

    name: ClassVar[str]
    """Display name shown in the admin catalogue and on the customer's payment choice."""

    version: ClassVar[str]
    """Version of the plugin itself, shown in the admin catalogue."""

    contract_version: ClassVar[int] = CONTRACT_VERSION
    """Major contract version the plugin was written for. Set it explicitly in your plugin so that a
    future contract change makes the loader reject the plugin instead of calling it wrongly."""

    Settings: ClassVar[type[msgspec.Struct]]
    """msgspec struct of the per-tenant settings (merchant ids, keys, API base URLs). The admin
    renders it as a form and validates it on save."""

    secret_fields: ClassVar[frozenset[str]] = frozenset()
    """Names of ``Settings`` fields that hold secrets. The platform stores them encrypted and never
    shows them again after they are saved."""

    capabilities: ClassVar[GatewayCapabilities] = GatewayCapabilities()
    """Optional features this gateway implements; the default declares none."""

    def __init__(self, settings: msgspec.Struct, context: GatewayContext) -> None:
        """Keep the settings and context; override only to prepare clients, and call this first.

        Raises:
            GatewayConfigError: ``settings`` is not an instance of the plugin's ``Settings``.
        """
        if not isinstance(settings, self.Settings):
            raise GatewayConfigError(
                f"gateway {self.id!r} expects settings of type {self.Settings.__name__}, "
                f"got {type(settings).__name__}"
            )
        self.settings = settings
        self.context = context

    @abstractmethod
    def prepare(self, request: PaymentRequest) -> PreparedPayment:
        """Register the order with the provider and return where to send the customer.

        Called when the customer chooses this gateway. It must never capture or move money.

        Raises:
            GatewayUnavailable: the provider could not be reached; the customer may retry.
        """

    @abstractmethod
    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify a server-to-server notification and return what it states.

        Called with the request headers and the unmodified body of each request that reaches
        ``notify_url``. Check its signature against this tenant's credentials before reading it.
        The platform then matches order, amount, currency and merchant against the stored attempt.

        Raises:
            NotificationRejected: bad or missing signature, stale timestamp, malformed body or
                another merchant; the reason names the failed check.
        """

    def query_status(self, order_id: str) -> Notification | None:
        """Ask the provider for the status of ``order_id``; the default returns ``None``.

        Called for a pending attempt older than 30 minutes. Override it and set
        ``capabilities.query_status`` when the provider has a status API.

        Raises:
            GatewayUnavailable: the provider could not be reached.
        """
        return None

    def refund(self, order_id: str, amount: Decimal) -> None:
        """Refund ``amount`` of a completed order; the default raises :class:`RefundNotSupported`.

        Raises:
            RefundNotSupported: the gateway cannot refund through its API.
            GatewayUnavailable: the provider could not be reached.
        """
        raise RefundNotSupported(f"gateway {self.id!r} does not support refunds; refund from its console")

    def scrub_personal_data(self, order_id: str) -> None:
        """Remove personal data the plugin keeps outside the platform for ``order_id``.

        Called when the platform erases a customer's data. The default does nothing, which suits
        gateways that keep no data of their own.
        """
        return

    @classmethod
    def settings_from_dict(cls, data: Mapping[str, Any]) -> msgspec.Struct:
        """Validate stored or submitted settings and return them as the plugin's ``Settings``.

        Raises:
            GatewayConfigError: a field is missing or has the wrong type. The message names the
                field; msgspec repeats the value only for a choice outside a ``Literal``.
        """
        try:
            return msgspec.convert(dict(data), cls.Settings)
        except msgspec.ValidationError as exc:
            raise GatewayConfigError(f"invalid settings for gateway {cls.id!r}: {exc}") from exc
