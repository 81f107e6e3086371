"""WhatsApp channel: template messages through Meta's WhatsApp Business Cloud API.

Protocol facts (``providers.md`` section 6): ``POST {base}/v{version}/{phone-number-id}/messages``
with a bearer token and a ``template`` object; status webhooks signed with
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``; the subscription handshake
``GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...``. Outside the 24-hour window only
approved templates may be sent, so this channel sends nothing else.

The tenant names its approved template and maps its body parameters to our fields
(``utility``, ``service_label``, ``document_number``, ``due_date``); a URL button gets the last
part of the personal link (the token) as its suffix. We pass our idempotency key as
``biz_opaque_callback_data`` [infer: Meta echoes it in status webhooks], so a status matches the
message even when the worker died before storing the ``wamid``. The send answer's exact shape is
[NOT FOUND]; :func:`message_id_from_answer` reads it in one replaceable function. The Cloud API has
no status query, so an ``uncertain`` WhatsApp message waits for its webhook or for staff.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import msgspec

from bolletta.channels.base import (
    CONTRACT_VERSION,
    CallbackRequest,
    Capabilities,
    Channel,
    DeliveryReport,
    OutgoingMessage,
    SendResult,
)
from bolletta.channels.errors import ChannelOutcomeUnknown, ChannelUnavailable
from bolletta.channels.http import PooledClient, json_or_unknown

STATUS_MAP = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}
TEMPLATE_FIELDS = frozenset({"utility", "service_label", "document_number", "due_date", "link"})
OPT_OUT_ERRORS = frozenset({"131050"})
"""Cloud API error codes meaning the user stopped marketing messages [infer]."""


class WhatsappSettings(msgspec.Struct, kw_only=True, frozen=True):
    """Per-tenant settings of the WhatsApp channel."""

    phone_number_id: str
    """The business phone number's id in the Cloud API."""
    access_token: str
    """System user access token (secret)."""
    app_secret: str
    """App secret that signs the status webhooks (secret)."""
    verify_token: str
    """Token the subscription handshake must carry (secret)."""
    template_name: str
    """Name of the approved UTILITY template, e.g. ``bolletta_pronta``."""
    body_parameters: list[str] = msgspec.field(default_factory=lambda: ["utility", "document_number", "due_date"])
    """Our field for each ``{{n}}`` of the template body, in order."""
    url_button_index: int | None = 0
    """Index of the template's dynamic URL button that gets the link's token as suffix; ``None`` if none."""
    api_version: str = "v21.0"
    api_base_url: str = ""
    """Empty means production (``https://graph.facebook.com``)."""
    ca_bundle: str = ""
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 15.0
    max_rate: Annotated[float, msgspec.Meta(gt=0)] | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.body_parameters) - TEMPLATE_FIELDS)
        if unknown:
            raise ValueError(f"unknown template fields {unknown}; use {sorted(TEMPLATE_FIELDS)}")


class WhatsappChannel(Channel):
    """Channel that sends approved WhatsApp templates and reads signed status webhooks."""

    id: ClassVar[str] = "whatsapp"
    name: ClassVar[str] = "WhatsApp (Cloud API)"
    version: ClassVar[str] = "1.0.0"
    contract_version: ClassVar[int] = CONTRACT_VERSION
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({"whatsapp"}), batch_size=1, max_rate=80.0, unicode=True, delivery_reports=True,
        status_query=False,
    )
    Settings: ClassVar[type[msgspec.Struct]] = WhatsappSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"access_token", "app_secret", "verify_token"})
    api_base_urls: ClassVar[Mapping[str, str]] = {"default": "https://graph.facebook.com"}

    settings: WhatsappSettings

    def __init__(self, settings: msgspec.Struct, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, context)
        self.http = PooledClient(
            self.api_base_url(), verify=self.tls_verify(), timeout=self.settings.timeout_seconds,
            headers={"Authorization": f"Bearer {self.settings.access_token}"},
        )

    def template_payload(self, message: OutgoingMessage) -> dict[str, Any]:
        """Build the ``messages`` request body: the template with mapped parameters and button suffix.

        The message's own template (the tenant's choice for its language) wins over the one in the
        channel settings. With the settings' template, the language code is the message's language.
        """
        name, language = self.settings.template_name, message.language or "it"
        parameters = self.settings.body_parameters
        button_index = self.settings.url_button_index
        if message.template is not None:
            name, language = message.template.name, message.template.language_code
            parameters = list(message.template.body_parameters)
            button_index = 0 if message.template.url_button else None
        values = dict(message.template_params) | {"link": message.link}
        components: list[dict[str, Any]] = [{
            "type": "body",
            "parameters": [{"type": "text", "text": values.get(field, "")} for field in parameters],
        }]
        if button_index is not None and message.link:
            components.append({
                "type": "button", "sub_type": "url", "index": str(button_index),
                "parameters": [{"type": "text", "text": message.link.rstrip("/").rsplit("/", 1)[-1]}],
            })
        return {
            "messaging_product": "whatsapp",
            "to": message.to.lstrip("+"),
            "type": "template",
            "template": {
                "name": name,
                "language": {"code": language, "policy": "deterministic"},
                "components": components,
            },
            "biz_opaque_callback_data": message.idempotency_key,
        }

    def send(self, message: OutgoingMessage) -> SendResult:
        """Post the template message; the response contains the ``wamid``."""
        if message.kind != "whatsapp":
            return SendResult(status="rejected", error=f"channel 'whatsapp' cannot send {message.kind!r}")
        path = f"/{self.settings.api_version}/{self.settings.phone_number_id}/messages"
        response = self.http.request("whatsapp", "POST", path, json=self.template_payload(message))
        if response.status_code == 401:
            raise ChannelUnavailable("whatsapp: HTTP 401, access token rejected")
        if response.status_code >= 400:
            code = ""
            with contextlib.suppress(ValueError, KeyError, TypeError):
                code = str(response.json()["error"]["code"])
            return SendResult(status="rejected", error=f"whatsapp HTTP {response.status_code} code {code}".strip())
        wamid = message_id_from_answer(json_or_unknown("whatsapp", response))
        if not wamid:
            raise ChannelOutcomeUnknown("whatsapp: the response has no message id")
        return SendResult(status="sent", provider_message_id=wamid)

    def check_credentials(self) -> str | None:
        """Read the business phone number (``GET /{version}/{phone-number-id}``) with the access token."""
        path = f"/{self.settings.api_version}/{self.settings.phone_number_id}"
        response = self.http.request("whatsapp", "GET", path, unknown_on_read_timeout=False)
        if response.status_code >= 400:
            code = ""
            with contextlib.suppress(ValueError, KeyError, TypeError):
                code = str(response.json()["error"]["code"])
            return f"whatsapp: HTTP {response.status_code} code {code}".strip()
        return None

    def verify_callback(self, request: CallbackRequest) -> bool:
        """Check ``X-Hub-Signature-256`` against the HMAC-SHA256 of the raw body under the app secret."""
        header = request.headers.get("x-hub-signature-256", "")
        if not header.startswith("sha256="):
            return False
        expected = hmac.new(self.settings.app_secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, header.removeprefix("sha256="))

    def parse_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        """Read every ``statuses`` entry of the webhook; messages and other fields carry no status."""
        try:
            payload = json.loads(request.body)
            changes = [change for entry in payload["entry"] for change in entry.get("changes", [])]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("whatsapp webhook is not the documented JSON") from exc
        reports = []
        for change in changes:
            for status in (change.get("value") or {}).get("statuses", []):
                reports.append(_report(status))
        return reports

    def answer_handshake(self, request: CallbackRequest) -> str | None:
        """Echo ``hub.challenge`` when ``hub.mode`` is ``subscribe`` and the verify token matches."""
        if request.query.get("hub.mode") != "subscribe":
            return None
        given = request.query.get("hub.verify_token", "")
        if not hmac.compare_digest(given.encode(), self.settings.verify_token.encode()):
            return None
        return request.query.get("hub.challenge", "")


def _report(status: Mapping[str, Any]) -> DeliveryReport:
    provider_status = str(status.get("status", ""))
    ours = STATUS_MAP.get(provider_status)
    if ours is None:
        raise ValueError(f"whatsapp status {provider_status!r} is not one we know")
    errors = status.get("errors") or []
    code = str(errors[0].get("code", "")) if errors and isinstance(errors[0], dict) else ""
    at = None
    if status.get("timestamp"):
        at = datetime.fromtimestamp(int(status["timestamp"]), UTC)
    return DeliveryReport(
        status=ours, provider_message_id=str(status.get("id") or "") or None,
        idempotency_key=status.get("biz_opaque_callback_data") or None, at=at,
        error=f"{provider_status} {code}".strip() if ours == "failed" else None, opt_out=code in OPT_OUT_ERRORS,
    )


def message_id_from_answer(answer: Any) -> str | None:
    """Return the ``wamid`` from a send response (``messages[0].id``; shape [NOT FOUND] beyond that)."""
    try:
        return str(answer["messages"][0]["id"]) or None
    except (KeyError, IndexError, TypeError):
        return None
