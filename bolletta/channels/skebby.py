"""Skebby channel: SMS through the Italian Skebby REST API (the Aruba SMS family of the same shape).

Protocol facts (``providers.md`` section 5a): authentication by ``login`` (``user_key;session_key``)
or by an access token; ``POST sms`` with JSON; ``GET sms/{order_id}`` for the per-recipient status.
We send our idempotency key as ``order_id``, so a message whose response was lost is found again by
that key.

Delivery reports come from **status polling** (the documented path): the channel declares
``status_query`` and no push callbacks, and the platform's sweeper asks. Skebby's push report
format is not documented in our sources ([NOT FOUND]); :func:`parse_push_report` holds our guess
in one replaceable function, used only when a tenant sets ``callback_token`` and points Skebby's
push URL at the platform.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, ClassVar
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import msgspec

from bolletta.channels import sms
from bolletta.channels.base import (
    CONTRACT_VERSION,
    CallbackRequest,
    Capabilities,
    Channel,
    DeliveryReport,
    OutgoingMessage,
    SendResult,
    StatusQuery,
)
from bolletta.channels.errors import ChannelConfigError, ChannelOutcomeUnknown, ChannelUnavailable
from bolletta.channels.http import PooledClient, json_or_unknown

logger = logging.getLogger(__name__)

ROME = ZoneInfo("Europe/Rome")

STATUS_MAP = {
    "WAITING": "sent", "SENT": "sent", "WAIT4DLVR": "sent", "SCHEDULED": "sent", "DEMO": "sent",
    "DLVRD": "delivered",
    "ERROR": "failed", "TIMEOUT": "failed", "TOOM4USER": "failed", "TOOM4NUM": "failed", "UNKNRCPT": "failed",
    "UNKNPFX": "failed", "INVALIDDST": "failed", "BLACKLISTED": "failed", "KO": "failed",
    "INVALIDCONTENTS": "failed",
}
"""Skebby recipient statuses to ours (the smsend status table, assumed identical: [3p])."""


class SkebbySettings(msgspec.Struct, kw_only=True, frozen=True):
    """Per-tenant settings of the Skebby channel."""

    username: str = ""
    """Account user name, for session login; unused with ``access_token`` and ``user_key``."""
    password: str = ""
    """Account password (secret)."""
    user_key: str = ""
    """``user_key`` for token authentication (with ``access_token``)."""
    access_token: str = ""
    """Access token (secret); when set, no login call is made."""
    message_type: str = "GP"
    """Message quality: ``GP`` (high, custom alias), ``TI`` (classic), ``SI`` (low)."""
    sender: str = ""
    """Default alias (AGCOM rules: at most 11 characters, not starting with a digit)."""
    api_base_url: str = ""
    """Empty means production (``https://api.skebby.it/API/v1.0/REST``)."""
    ca_bundle: str = ""
    """PEM file of trusted CAs; empty means the system store."""
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 15.0
    max_rate: Annotated[float, msgspec.Meta(gt=0)] | None = None
    """Messages per second this account may send; empty means no limit of ours."""
    callback_token: str = ""
    """Secret the push report URL carries as ``?token=`` (secret); empty disables push reports."""


class SkebbyChannel(Channel):
    """Channel that sends SMS through the Skebby REST API."""

    id: ClassVar[str] = "skebby"
    name: ClassVar[str] = "SMS (Skebby)"
    version: ClassVar[str] = "1.0.0"
    contract_version: ClassVar[int] = CONTRACT_VERSION
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({"sms"}), batch_size=1, max_rate=None, unicode=True, delivery_reports=False,
        status_query=True, idempotent_send=False,
    )
    Settings: ClassVar[type[msgspec.Struct]] = SkebbySettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"password", "access_token", "callback_token"})
    api_base_urls: ClassVar[Mapping[str, str]] = {"default": "https://api.skebby.it/API/v1.0/REST"}

    settings: SkebbySettings

    def __init__(self, settings: msgspec.Struct, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, context)
        if not (self.settings.access_token or self.settings.password):
            raise ChannelConfigError("channel 'skebby' needs an access_token or a username and password")
        self.http = PooledClient(self.api_base_url() + "/", verify=self.tls_verify(),
                                 timeout=self.settings.timeout_seconds)
        self._session: tuple[str, str] | None = None
        self._login_lock = threading.Lock()

    # --- authentication ---

    def _auth_headers(self) -> dict[str, str]:
        settings = self.settings
        if settings.access_token:
            return {"user_key": settings.user_key, "Access_token": settings.access_token}
        if self._session is None:
            with self._login_lock:
                if self._session is None:
                    self._session = self._login()
        return {"user_key": self._session[0], "Session_key": self._session[1]}

    def _login(self) -> tuple[str, str]:
        response = self.http.request(
            "skebby", "GET", "login", unknown_on_read_timeout=False,
            params={"username": self.settings.username, "password": self.settings.password},
        )
        if response.status_code != 200:
            raise ChannelConfigError(f"skebby: login rejected with HTTP {response.status_code}")
        user_key, _, session_key = response.text.strip().partition(";")
        if not user_key or not session_key:
            raise ChannelUnavailable("skebby: login response is not 'user_key;session_key'")
        return user_key, session_key

    def check_credentials(self) -> str | None:
        """Read the account status (``GET status``, credit left), logging in first without a token."""
        try:
            headers = self._auth_headers()
        except ChannelConfigError as exc:
            return str(exc)
        response = self.http.request("skebby", "GET", "status", unknown_on_read_timeout=False, headers=headers)
        if response.status_code >= 400:
            return f"skebby: HTTP {response.status_code}"
        return None

    # --- sending ---

    def send(self, message: OutgoingMessage) -> SendResult:
        """Post the SMS with our idempotency key as ``order_id``; 201 means Skebby took it."""
        if message.kind != "sms":
            return SendResult(status="rejected", error=f"channel 'skebby' cannot send {message.kind!r}")
        alias = message.sender or self.settings.sender
        if alias and sms.alias_problems(alias):
            return SendResult(status="rejected", error="alias breaks the AGCOM rules: " + "; ".join(
                sms.alias_problems(alias)))
        length = sms.measure(message.text)
        body = {
            "message_type": self.settings.message_type,
            "message": message.text,
            "recipient": [message.to],
            "order_id": message.idempotency_key,
            "returnCredits": False,
            "encoding": "gsm" if length.encoding == "gsm7" else "ucs2",
        }
        if alias:
            body["sender"] = alias
        response = self.http.request("skebby", "POST", "sms", json=body, headers=self._auth_headers())
        if response.status_code == 401:
            self._session = None
            raise ChannelUnavailable("skebby: HTTP 401, session expired or keys rejected")
        if response.status_code >= 400:
            return SendResult(status="rejected", error=f"skebby HTTP {response.status_code}: {response.text[:120]}")
        answer = json_or_unknown("skebby", response)
        if not isinstance(answer, dict) or answer.get("result") != "OK":
            raise ChannelOutcomeUnknown("skebby: the response has no result OK")
        return SendResult(status="sent", provider_message_id=str(answer.get("order_id") or message.idempotency_key))

    # --- reports ---

    def query_status(self, query: StatusQuery) -> DeliveryReport:
        """Read ``GET sms/{order_id}``: 404 means Skebby never took the message (``unknown``)."""
        order_id = query.provider_message_id or query.idempotency_key
        response = self.http.request("skebby", "GET", f"sms/{order_id}", unknown_on_read_timeout=False,
                                     headers=self._auth_headers())
        if response.status_code == 404:
            return DeliveryReport(status="unknown", idempotency_key=query.idempotency_key)
        if response.status_code >= 400:
            raise ChannelUnavailable(f"skebby: status query rejected with HTTP {response.status_code}")
        try:
            answer = response.json()
            recipient = answer["recipients"][0]
            provider_status = str(recipient["status"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ChannelUnavailable("skebby: malformed status response") from exc
        return _report(order_id, provider_status, recipient.get("delivery_date"))

    def verify_callback(self, request: CallbackRequest) -> bool:
        """Accept a push report whose URL carries the tenant's ``callback_token``."""
        expected = self.settings.callback_token
        given = request.query.get("token", "")
        return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())

    def parse_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        """Read a push report with :func:`parse_push_report`."""
        fields = dict(parse_qsl(request.body.decode("utf-8", errors="replace"))) if request.body else {}
        return [parse_push_report(fields | dict(request.query))]


def _report(order_id: str, provider_status: str, delivery_date: object) -> DeliveryReport:
    status = STATUS_MAP.get(provider_status.upper(), "sent")
    return DeliveryReport(
        status=status, provider_message_id=order_id, idempotency_key=order_id, at=_parse_date(delivery_date),
        error=provider_status if status == "failed" else None, opt_out=provider_status.upper() == "BLACKLISTED",
    )


def _parse_date(value: object) -> datetime | None:
    """Skebby dates are ``YYYYMMDDHHMMSS`` or ``YYYY-MM-DD HH:MM:SS`` in Italian time ([3p])."""
    if not value:
        return None
    text = str(value)
    for layout in ("%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=ROME).astimezone(UTC)
        except ValueError:
            continue
    return None


def parse_push_report(fields: Mapping[str, str]) -> DeliveryReport:
    """Guess at Skebby's push report: form fields ``order_id``, ``status``, ``delivery_date``.

    [NOT FOUND] in the provider's public material: replace this function when a tenant's contract
    documents the format.

    Raises:
        ValueError: the report has no ``order_id`` or ``status``.
    """
    order_id = fields.get("order_id", "")
    provider_status = fields.get("status", "")
    if not order_id or not provider_status:
        raise ValueError("skebby push report lacks order_id or status")
    return _report(order_id, provider_status, fields.get("delivery_date"))
