"""Contract between the platform and payment gateway plugins (entry point group ``bolletta.gateways``).

Payments are two-phase:

1. **Prepare.** :meth:`Gateway.prepare` registers the order with the provider and returns the page
   the customer is sent to (a redirect, or a form the browser posts). It never moves money.
2. **Confirm.** The money moves on the provider's hosted page. The platform moves the attempt to
   ``completed`` or ``failed`` only on a :class:`Notification` that came from
   :meth:`Gateway.verify_notification` (a server-to-server message whose signature, MAC or token
   the plugin checked, or that the plugin confirmed with a server-side call) or from
   :meth:`Gateway.confirm` and :meth:`Gateway.query_status` (server-side calls to the provider).
   The customer's return to ``return_url`` never marks anything paid: the platform calls
   :meth:`Gateway.confirm` in the background and ignores every parameter of the return request.

The platform, not the plugin, compares each notification's order, amount, currency and merchant
with the stored attempt, deduplicates notifications by :attr:`Notification.event_id` and applies a
state change at most once.

To write a gateway, subclass :class:`Gateway` and :class:`GatewaySettings`, fill in the class
attributes, implement the abstract methods and declare the class under the entry point group
``bolletta.gateways``. The entry point name is the plugin's id and must equal :attr:`Gateway.id`.
A plugin imports only this module, :mod:`bolletta.gateways.errors` and the standard library or its
own dependencies. :mod:`bolletta.gateways.testing` checks a plugin against this contract.
"""

from __future__ import annotations

import ssl
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol

import httpx
import msgspec

from bolletta.gateways.errors import GatewayConfigError, GatewayUnavailable, RefundNotSupported

CONTRACT_VERSION = 1
"""Major version of this contract. The loader rejects a plugin that declares another major version."""

NOTIFICATION_STATUSES = frozenset({"completed", "failed", "cancelled", "pending"})
"""Every value :attr:`Notification.status` can take."""

FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
"""Statuses that settle an attempt; ``pending`` changes nothing."""


class GatewaySettings(msgspec.Struct, kw_only=True, frozen=True):
    """Fields every gateway's settings share. Subclass it and add the provider's own fields.

    A subclass redeclares ``api_base_url`` with the provider's production URL as its default. The
    admin form hides ``api_base_url`` and ``ca_bundle`` from tenants; tests set them to reach a
    local fake server over loopback TLS.
    """

    test_mode: bool = False
    """Use the provider's test environment. The customer page then shows a "test mode" banner."""

    api_base_url: str = ""
    """Base URL of the provider's API, without a trailing slash; empty means the plugin's default."""

    ca_bundle: str = ""
    """Path of a PEM file of CA certificates trusted for the provider's API instead of the system
    store; empty uses the system store."""

    timeout_seconds: float = 20.0
    """Timeout of each HTTP request to the provider, in seconds."""


class PaymentRequest(msgspec.Struct, kw_only=True, frozen=True):
    """One payment attempt for a gateway to prepare."""

    payment_id: str
    """The platform's id of the payment attempt."""

    order_id: str
    """Order id sent to the provider: unique per attempt, 21 characters of ``[A-Za-z0-9]``, which
    fits every built-in provider's limit (Nexi ``codTrans`` allows 2 to 30)."""

    amount: Decimal
    """Amount to pay in ``currency`` units (``Decimal('84.20')``), taken from the stored bill."""

    currency: str
    """ISO 4217 code, for example ``EUR``."""

    description: str
    """Order description the provider shows, such as ``Bolletta luce n. 2023/B002/6452 del
    17/08/2023``. Cut it to the provider's own limit before sending it."""

    return_url: str
    """Page the provider sends the customer to after paying. Built by the platform for this
    attempt; reaching it proves nothing."""

    cancel_url: str
    """Page the provider sends the customer to after cancelling. Built by the platform."""

    notify_url: str
    """URL the provider sends server-to-server notifications to, one per tenant and plugin."""

    tenant_slug: str
    """Slug of the tenant the payment belongs to."""

    language: str = "it"
    """ISO 639-1 language of the customer's pages, for the provider's hosted page."""


class PreparedPayment(msgspec.Struct, kw_only=True, frozen=True):
    """Result of :meth:`Gateway.prepare`."""

    redirect_url: str
    """Page the customer is sent to (the provider's hosted payment page)."""

    form_fields: dict[str, str] | None = None
    """When set, the browser posts these fields to ``redirect_url`` as an HTML form instead of
    following a redirect (Nexi XPay's classic flow)."""

    provider_reference: str | None = None
    """The provider's id for the order or session (PayPal order id, Axerve ``paymentID``,
    Satispay payment id). Stored on the attempt and passed back in :class:`PaymentAttempt`."""

    provider_data: dict[str, str] = msgspec.field(default_factory=dict)
    """Other values the plugin needs later, stored on the attempt (for example Nexi's
    ``securityToken``). Never card data."""


class PaymentAttempt(msgspec.Struct, kw_only=True, frozen=True):
    """A stored attempt, as the platform passes it back to the plugin."""

    order_id: str
    """The order id of :attr:`PaymentRequest.order_id`."""

    amount: Decimal
    """Amount of the attempt in ``currency`` units."""

    currency: str
    """ISO 4217 code of the attempt."""

    created_at: datetime
    """When the attempt was created (aware, UTC)."""

    provider_reference: str | None = None
    """:attr:`PreparedPayment.provider_reference` of the attempt."""

    provider_data: dict[str, str] = msgspec.field(default_factory=dict)
    """:attr:`PreparedPayment.provider_data` of the attempt."""

    transaction_id: str | None = None
    """The provider's transaction id once a notification reported one."""


class IncomingNotification(msgspec.Struct, kw_only=True, frozen=True):
    """A request that reached the plugin's notification URL, unparsed."""

    method: str
    """``POST`` or ``GET`` (Satispay and Axerve call the URL with GET)."""

    headers: dict[str, str]
    """Request headers; look names up with :func:`header`, which ignores case."""

    query: dict[str, str]
    """Query string parameters (the last value of a repeated name)."""

    body: bytes
    """The unmodified body. Verify signatures over these bytes, before parsing them."""


class AttemptLookup(Protocol):
    """Finds this tenant's attempts for :meth:`Gateway.verify_notification`."""

    def by_order_id(self, order_id: str) -> PaymentAttempt | None:
        """Return the attempt with this order id on this gateway, or ``None``."""

    def by_provider_reference(self, reference: str) -> PaymentAttempt | None:
        """Return the attempt with this provider reference on this gateway, or ``None``."""


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
    """Merchant account the provider reports, when it reports one. The platform compares it with
    :attr:`Gateway.merchant_account`."""

    provider_reference: str | None = None
    """The provider's id for the order or session."""

    transaction_id: str | None = None
    """The provider's id of the money movement (PayPal capture id, Nexi ``codAut`` or
    ``operationId``, Axerve ``bankTransactionID``), shown to staff for reconciliation."""

    event_id: str | None = None
    """The provider's id for this notification. The platform records it and answers a second
    notification with the same id as a duplicate, changing nothing."""

    detail: str = ""
    """Provider's status words for staff (``DECLINED``, ``esito=KO``), never personal data."""


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

    Settings: ClassVar[type[GatewaySettings]]
    """Settings struct (a :class:`GatewaySettings` subclass) of the per-tenant settings: merchant
    ids, keys, API base URL. The admin renders it as a form and validates it on save."""

    secret_fields: ClassVar[frozenset[str]] = frozenset()
    """Names of ``Settings`` fields that hold secrets. The platform stores them encrypted and never
    shows them again after they are saved."""

    default_api_base_url: ClassVar[str] = ""
    """Production API base URL, used when ``settings.api_base_url`` is empty and test mode is off."""

    test_api_base_url: ClassVar[str] = ""
    """The provider's test environment, used when ``settings.api_base_url`` is empty and test mode
    is on."""

    capabilities: ClassVar[GatewayCapabilities] = GatewayCapabilities()
    """Optional features this gateway implements; the default declares none."""

    hosted_page_origins: ClassVar[tuple[str, ...]] = ()
    """Origins (``https://host``) of the provider's hosted pages, production and test. Browsers
    apply the pay form's CSP ``form-action`` to the redirect that follows it, so the customer page
    lists these origins there."""

    settings: GatewaySettings

    def __init__(self, settings: GatewaySettings, context: GatewayContext) -> None:
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

    # -- phase 1 ---------------------------------------------------------------------------------

    @abstractmethod
    def prepare(self, request: PaymentRequest) -> PreparedPayment:
        """Register the order with the provider and return where to send the customer.

        Called when the customer chooses this gateway. It must never capture or move money.

        Raises:
            GatewayUnavailable: the provider could not be reached; the customer may retry.
        """

    # -- phase 2 ---------------------------------------------------------------------------------

    @abstractmethod
    def verify_notification(self, incoming: IncomingNotification, attempts: AttemptLookup) -> Notification:
        """Verify a server-to-server notification and return what it states.

        Check the signature, MAC or token against this tenant's credentials before reading the
        body. A provider whose notification carries no proof (a bare callback) is confirmed here
        with a server-side call, and the result of that call is returned. ``attempts`` finds the
        stored attempt, for a per-attempt token or the provider reference.

        Raises:
            NotificationRejected: bad or missing signature, stale timestamp, malformed body or an
                unknown order; the message names the failed check.
            GatewayUnavailable: the provider could not be reached for the confirming call.
        """

    def confirm(self, attempt: PaymentAttempt) -> Notification | None:
        """Settle an attempt with a server-side call after the customer returned.

        The default asks :meth:`query_status`. A provider whose money moves only on the merchant's
        request (PayPal's capture) overrides it to make that request; it must be safe to call twice.

        Raises:
            GatewayUnavailable: the provider could not be reached.
        """
        return self.query_status(attempt)

    def query_status(self, attempt: PaymentAttempt) -> Notification | None:
        """Ask the provider for the status of ``attempt``; the default returns ``None``.

        Called for a pending attempt older than 30 minutes when the customer retries, and by the
        nightly reconciliation. Override it and set ``capabilities.query_status`` when the provider
        has a status API.

        Raises:
            GatewayUnavailable: the provider could not be reached.
        """
        return None

    # -- other members ---------------------------------------------------------------------------

    @property
    def merchant_account(self) -> str | None:
        """This tenant's merchant account as notifications name it; ``None`` skips the check."""
        return None

    def check_credentials(self) -> str | None:
        """Make the provider's cheapest authenticated call; return ``None`` when it accepted the
        credentials, else the provider's reason (code and text, no secret).

        It must move no money and create no order. The wizard calls it when an admin saves the
        gateway's settings and shows the result next to them. The default raises
        :class:`NotImplementedError`, which means "this plugin cannot check", so the wizard shows
        nothing.

        Raises:
            GatewayUnavailable: the provider could not be reached or returned a server error.
        """
        raise NotImplementedError

    def refund(self, attempt: PaymentAttempt, amount: Decimal) -> Notification:
        """Refund ``amount`` of a completed attempt; the default raises :class:`RefundNotSupported`.

        Raises:
            RefundNotSupported: the gateway cannot refund through its API.
            GatewayUnavailable: the provider could not be reached.
        """
        raise RefundNotSupported(
            f"gateway {self.id!r} does not refund through its API; refund the payment from the provider's "
            "merchant console and record it there"
        )

    def transaction_id(self, notification: Notification) -> str | None:
        """Return the id staff quote to the provider for this payment (reconciliation)."""
        return notification.transaction_id or notification.provider_reference

    def scrub_personal_data(self, attempt: PaymentAttempt) -> None:
        """Remove personal data the plugin keeps outside the platform for ``attempt``.

        Called when the platform erases a customer's data. The default does nothing, which suits
        gateways that keep no data of their own.
        """
        return

    @classmethod
    def settings_from_dict(cls, data: Mapping[str, Any]) -> GatewaySettings:
        """Validate stored or submitted settings and return them as the plugin's ``Settings``.

        Raises:
            GatewayConfigError: a field is missing or has the wrong type. The message names the
                field; msgspec repeats the value only for a choice outside a ``Literal``.
        """
        try:
            return msgspec.convert(dict(data), cls.Settings)
        except msgspec.ValidationError as exc:
            raise GatewayConfigError(f"invalid settings for gateway {cls.id!r}: {exc}") from exc

    # -- helpers for plugins -----------------------------------------------------------------------

    @property
    def api_base_url(self) -> str:
        """The API base URL in use: the settings' own, else the test or production default."""
        if self.settings.api_base_url:
            return self.settings.api_base_url.rstrip("/")
        return (self.test_api_base_url if self.settings.test_mode else self.default_api_base_url).rstrip("/")

    def http_client(self) -> httpx.Client:
        """Return an HTTP client for the provider's API, trusting ``settings.ca_bundle`` when set."""
        verify: Any = ssl.create_default_context(cafile=self.settings.ca_bundle) if self.settings.ca_bundle else True
        return httpx.Client(base_url=self.api_base_url, verify=verify, timeout=self.settings.timeout_seconds)

    def call(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request and return the response of any status below 500.

        Raises:
            GatewayUnavailable: the request timed out, the connection failed or the provider
                answered with a 5xx status.
        """
        try:
            response = client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise GatewayUnavailable(f"{self.id}: {method} {path} timed out") from exc
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"{self.id}: {method} {path} failed: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise GatewayUnavailable(f"{self.id}: {method} {path} returned HTTP {response.status_code}")
        return response


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Return the value of header ``name``, matched case-insensitively as HTTP requires."""
    expected_name = name.lower()
    for key, value in headers.items():
        if key.lower() == expected_name:
            return value
    return None


def cents(amount: Decimal) -> int:
    """Return ``amount`` in minor units (``Decimal('84.20')`` gives 8420).

    Raises:
        ValueError: ``amount`` has more than two decimals.
    """
    value = amount * 100
    if value != value.to_integral_value():
        raise ValueError(f"amount {amount} has more than two decimals")
    return int(value)


def from_cents(value: int | str) -> Decimal:
    """Return minor units (``8420`` or ``"8420"``) as a two-decimal amount."""
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))
