"""Fake WhatsApp Cloud API: template sends, signed status webhooks, the verification handshake.

Checks the bearer token, that the message is a ``template`` with a name, a language and body
parameters, answers with ``messages[0].id`` (a ``wamid``), and posts status webhooks signed with
``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body under the app secret). Every status carries
the ``biz_opaque_callback_data`` the send gave.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.channel_server import FakeProvider, LoopbackCA, Reply, arrange

PHONE_NUMBER_ID = "106540352242922"


@dataclass
class WaMessage:
    wamid: str
    to: str
    payload: dict[str, Any]
    opaque: str


class FakeWhatsapp(FakeProvider):
    name = "whatsapp"

    def __init__(self, ca: LoopbackCA | None = None, *, access_token: str = "EAAG-test-token",
                 app_secret: str = "wa-app-secret", templates: tuple[str, ...] = ("bolletta_pronta",)) -> None:
        super().__init__(ca)
        self.access_token, self.app_secret = access_token, app_secret
        self.templates = set(templates)
        self.messages: dict[str, WaMessage] = {}

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        if path.endswith(f"/{PHONE_NUMBER_ID}") and method == "GET":
            if headers.get("authorization") != f"Bearer {self.access_token}":
                return Reply.json(401, {"error": {"code": 190, "message": "Invalid OAuth access token"}})
            return Reply.json(200, {"id": PHONE_NUMBER_ID, "display_phone_number": "+39 02 0000 0000",
                                    "verified_name": "ACME Energia", "quality_rating": "GREEN"})
        if not path.endswith(f"/{PHONE_NUMBER_ID}/messages") or method != "POST":
            return Reply.json(404, {"error": {"code": 100, "message": "Unsupported request"}})
        if headers.get("authorization") != f"Bearer {self.access_token}":
            return Reply.json(401, {"error": {"code": 190, "message": "Invalid OAuth access token"}})
        try:
            payload = json.loads(body)
            template = payload["template"]
            assert payload["messaging_product"] == "whatsapp" and payload["type"] == "template"
            name, language = template["name"], template["language"]["code"]
            body_params = next(c for c in template["components"] if c["type"] == "body")["parameters"]
        except (ValueError, KeyError, TypeError, AssertionError, StopIteration):
            return Reply.json(400, {"error": {"code": 100, "message": "Invalid parameter"}})
        if name not in self.templates or not language or not body_params:
            return Reply.json(400, {"error": {"code": 132001, "message": "Template name does not exist"}})
        to = str(payload.get("to", ""))
        if not to.isdigit():
            return Reply.json(400, {"error": {"code": 131009, "message": "Parameter value is not valid"}})
        wamid = "wamid." + secrets.token_hex(12)
        opaque = str(payload.get("biz_opaque_callback_data", ""))

        def accept() -> Reply:
            self.messages[wamid] = WaMessage(wamid, to, payload, opaque)
            return Reply.json(200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                                    "messages": [{"id": wamid}]})

        return self.faulty_send(opaque or wamid, accept)

    def webhook_body(self, statuses: list[tuple[str, str]]) -> bytes:
        """A webhook body with one status entry per ``(wamid, status)``."""
        entries = []
        for wamid, status in statuses:
            message = self.messages[wamid]
            entry: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
                                     "recipient_id": message.to, "biz_opaque_callback_data": message.opaque}
            if status == "failed":
                entry["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
            entries.append(entry)
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "WABA-1", "changes": [{
            "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
                "display_phone_number": "390600000000", "phone_number_id": PHONE_NUMBER_ID}, "statuses": entries}}]}]}
        return json.dumps(payload).encode()

    def sign(self, body: bytes, secret: str | None = None) -> str:
        return "sha256=" + hmac.new((secret or self.app_secret).encode(), body, hashlib.sha256).hexdigest()

    def push_reports(self, url: str, reports: list[tuple[str, str]], *, shuffle: bool = False,
                     duplicate: bool = False, secret: str | None = None) -> list[int]:
        """POST one signed webhook per status; return the platform's answers."""
        results = []
        for report in arrange(reports, shuffle=shuffle, duplicate=duplicate):
            body = self.webhook_body([report])
            results.append(self.deliver(url, body=body, headers={
                "Content-Type": "application/json", "X-Hub-Signature-256": self.sign(body, secret)}))
        return results

    def settings(self, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "phone_number_id": PHONE_NUMBER_ID, "access_token": self.access_token, "app_secret": self.app_secret,
            "verify_token": "verify-me", "template_name": "bolletta_pronta", "api_base_url": self.base_url,
            "timeout_seconds": 2.0,
        }
        if self.ca is not None:
            values["ca_bundle"] = str(self.ca.ca_file)
        return values | changes
