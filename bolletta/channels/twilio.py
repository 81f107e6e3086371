"""Twilio channel: SMS through the Programmable Messaging API, with signed status callbacks.

Protocol facts (``providers.md`` section 5b): ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``,
form-encoded, HTTP Basic ``AccountSid:AuthToken``; ``StatusCallback`` receives ``MessageSid``,
``MessageStatus`` and ``ErrorCode`` signed with ``X-Twilio-Signature``: base64 of HMAC-SHA1 under
the auth token over the full URL followed by each POST parameter's name and value, sorted by name.

Each message's ``StatusCallback`` carries our idempotency key (``?key=``), so a callback matches the
message even when the worker died before storing Twilio's ``sid``. Twilio takes no idempotency key,
so a message whose answer was lost and whose ``sid`` we never stored cannot be queried: it stays
``uncertain`` until its status callback arrives.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

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
from bolletta.channels.errors import ChannelOutcomeUnknown, ChannelUnavailable
from bolletta.channels.http import PooledClient, json_or_unknown

STATUS_MAP = {
    "queued": "sent", "accepted": "sent", "scheduled": "sent", "sending": "sent", "sent": "sent",
    "delivered": "delivered", "read": "read",
    "failed": "failed", "undelivered": "failed", "canceled": "failed",
}

OPT_OUT_ERRORS = frozenset({"21610"})
"""Twilio error codes meaning the recipient unsubscribed (STOP) [infer from Twilio's error list]."""


class TwilioSettings(msgspec.Struct, kw_only=True, frozen=True):
    """Per-tenant settings of the Twilio channel."""

    account_sid: str
    """Account SID (``AC...``)."""
    auth_token: str
    """Auth token (secret); also the key of the status callback signatures."""
    from_number: str = ""
    """Sender: an E.164 number or an alphanumeric alias; empty when ``messaging_service_sid`` is set."""
    messaging_service_sid: str = ""
    """Messaging Service SID (``MG...``), used instead of ``from_number`` when set."""
    api_base_url: str = ""
    """Empty means production (``https://api.twilio.com``)."""
    ca_bundle: str = ""
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 15.0
    max_rate: Annotated[float, msgspec.Meta(gt=0)] | None = None
    validity_period_seconds: int = 0
    """``ValidityPeriod`` sent to Twilio; 0 leaves Twilio's default."""


class TwilioChannel(Channel):
    """Channel that sends SMS through Twilio and reads its signed status callbacks."""

    id: ClassVar[str] = "twilio"
    name: ClassVar[str] = "SMS (Twilio)"
    version: ClassVar[str] = "1.0.0"
    contract_version: ClassVar[int] = CONTRACT_VERSION
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({"sms"}), batch_size=1, unicode=True, delivery_reports=True, status_query=True,
    )
    Settings: ClassVar[type[msgspec.Struct]] = TwilioSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"auth_token"})
    api_base_urls: ClassVar[Mapping[str, str]] = {"default": "https://api.twilio.com"}

    settings: TwilioSettings

    def __init__(self, settings: msgspec.Struct, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, context)
        self.http = PooledClient(
            self.api_base_url(), verify=self.tls_verify(), timeout=self.settings.timeout_seconds,
            auth=(self.settings.account_sid, self.settings.auth_token),
        )

    def _messages_path(self) -> str:
        return f"/2010-04-01/Accounts/{self.settings.account_sid}/Messages"

    def check_credentials(self) -> str | None:
        """Fetch the account (``GET /2010-04-01/Accounts/{sid}.json``) with the SID and auth token."""
        path = f"/2010-04-01/Accounts/{self.settings.account_sid}.json"
        response = self.http.request("twilio", "GET", path, unknown_on_read_timeout=False)
        if response.status_code >= 400:
            code = ""
            with contextlib.suppress(ValueError, KeyError, TypeError):
                code = str(response.json()["code"])
            return f"twilio: HTTP {response.status_code} code {code}".strip()
        return None

    def send(self, message: OutgoingMessage) -> SendResult:
        """Create the message; Twilio responds 201 with its ``sid`` and status ``queued``."""
        if message.kind != "sms":
            return SendResult(status="rejected", error=f"channel 'twilio' cannot send {message.kind!r}")
        sender = message.sender or self.settings.from_number
        form = {"To": message.to, "Body": message.text}
        if self.settings.messaging_service_sid:
            form["MessagingServiceSid"] = self.settings.messaging_service_sid
        elif sender:
            if not sender.startswith("+") and sms.alias_problems(sender):
                return SendResult(status="rejected", error="alias breaks the AGCOM rules")
            form["From"] = sender
        callback = message.callback_url or self.context.callback_url
        if callback:
            form["StatusCallback"] = f"{callback}?{urlencode({'key': message.idempotency_key})}"
        if self.settings.validity_period_seconds:
            form["ValidityPeriod"] = str(self.settings.validity_period_seconds)
        response = self.http.request("twilio", "POST", f"{self._messages_path()}.json", data=form)
        if response.status_code == 401:
            raise ChannelUnavailable("twilio: HTTP 401, credentials rejected")
        if response.status_code >= 400:
            code = ""
            with contextlib.suppress(ValueError):
                code = str(response.json().get("code", ""))
            return SendResult(status="rejected", error=f"twilio HTTP {response.status_code} code {code}".strip())
        answer = json_or_unknown("twilio", response)
        sid = answer.get("sid") if isinstance(answer, dict) else None
        if not sid:
            raise ChannelOutcomeUnknown("twilio: the response has no sid")
        return SendResult(status="sent", provider_message_id=str(sid))

    def query_status(self, query: StatusQuery) -> DeliveryReport | None:
        """Fetch ``Messages/{sid}.json``; without a stored ``sid`` Twilio cannot be asked (``None``)."""
        if not query.provider_message_id:
            return None
        response = self.http.request("twilio", "GET", f"{self._messages_path()}/{query.provider_message_id}.json",
                                     unknown_on_read_timeout=False)
        if response.status_code == 404:
            return DeliveryReport(status="unknown", provider_message_id=query.provider_message_id)
        if response.status_code >= 400:
            raise ChannelUnavailable(f"twilio: status query rejected with HTTP {response.status_code}")
        try:
            answer = response.json()
            provider_status = str(answer["status"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ChannelUnavailable("twilio: malformed status response") from exc
        return _report(query.provider_message_id, None, provider_status, answer.get("error_code"),
                       _parse_date(answer.get("date_updated")))

    def verify_callback(self, request: CallbackRequest) -> bool:
        """Check ``X-Twilio-Signature`` over the URL Twilio was given and the sorted form fields."""
        signature = request.headers.get("x-twilio-signature", "")
        if not signature:
            return False
        url = request.url
        if self.context.callback_url:
            query = urlsplit(request.url).query
            url = self.context.callback_url + (f"?{query}" if query else "")
        params = dict(parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))
        expected = signature_for(self.settings.auth_token, url, params)
        return hmac.compare_digest(expected.encode(), signature.encode())

    def parse_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        """Read ``MessageSid``, ``MessageStatus`` and ``ErrorCode``; the URL's ``key`` is our key."""
        params = dict(parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))
        sid = params.get("MessageSid") or params.get("SmsSid")
        provider_status = params.get("MessageStatus") or params.get("SmsStatus")
        if not sid or not provider_status:
            raise ValueError("twilio status callback lacks MessageSid or MessageStatus")
        return [_report(sid, request.query.get("key") or None, provider_status, params.get("ErrorCode"), None)]


def _report(sid: str, key: str | None, provider_status: str, error_code: object, at: datetime | None) -> DeliveryReport:
    status = STATUS_MAP.get(provider_status.lower(), "sent")
    code = str(error_code or "")
    return DeliveryReport(
        status=status, provider_message_id=sid, idempotency_key=key, at=at,
        error=f"{provider_status} {code}".strip() if status == "failed" else None,
        opt_out=code in OPT_OUT_ERRORS,
    )


def _parse_date(value: object) -> datetime | None:
    """Twilio dates are RFC 2822 (``Wed, 04 Dec 2026 22:00:00 +0000``)."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None


def signature_for(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Return the ``X-Twilio-Signature`` of a POST to ``url`` with form ``params``."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
