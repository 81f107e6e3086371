"""Fake Twilio Messaging API: create and fetch messages, signed status callbacks.

Checks HTTP Basic ``AccountSid:AuthToken``, answers 201 with ``sid`` and ``queued``, rejects an
invalid ``To`` with 400 and code 21211, and posts status callbacks to each message's
``StatusCallback`` signed with ``X-Twilio-Signature`` exactly as Twilio does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tests.fakes.channel_server import FakeProvider, LoopbackCA, Reply, arrange


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """The fake's own signature code (kept apart from the plugin's on purpose)."""
    data = url
    for name in sorted(params):
        data += name + params[name]
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass
class TwilioMessage:
    sid: str
    to: str
    body: str
    sender: str
    callback: str
    status: str = "queued"
    error_code: str = ""


class FakeTwilio(FakeProvider):
    name = "twilio"

    def __init__(self, ca: LoopbackCA | None = None, *, account_sid: str = "AC" + "0" * 32,
                 auth_token: str = "tw-auth-token") -> None:
        super().__init__(ca)
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: dict[str, TwilioMessage] = {}

    def _authorised(self, headers: dict[str, str]) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return hmac.compare_digest(headers.get("authorization", ""), f"Basic {expected}")

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages"
        if path == f"/2010-04-01/Accounts/{self.account_sid}.json" and method == "GET":
            if not self._authorised(headers):
                return Reply.json(401, {"code": 20003, "message": "Authenticate"})
            return Reply.json(200, {"sid": self.account_sid, "status": "active", "type": "Full"})
        if not path.startswith(base):
            return Reply.json(404, {"code": 20404, "message": "not found"})
        if not self._authorised(headers):
            return Reply.json(401, {"code": 20003, "message": "Authenticate"})
        if path == f"{base}.json" and method == "POST":
            form = dict(parse_qsl(body.decode()))
            to = form.get("To", "")
            if not (to.startswith("+") and to[1:].isdigit()):
                return Reply.json(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})
            if not form.get("Body") or not (form.get("From") or form.get("MessagingServiceSid")):
                return Reply.json(400, {"code": 21602, "message": "Message body is required."})
            sid = "SM" + secrets.token_hex(16)
            key = dict(parse_qsl(form.get("StatusCallback", "").partition("?")[2])).get("key", sid)

            def accept() -> Reply:
                self.messages[sid] = TwilioMessage(sid, to, form["Body"], form.get("From", ""),
                                                   form.get("StatusCallback", ""))
                return Reply.json(201, {"sid": sid, "status": "queued", "to": to, "account_sid": self.account_sid})

            return self.faulty_send(key, accept)
        if method == "GET" and path.endswith(".json"):
            message = self.messages.get(path[len(base) + 1:-5])
            if message is None:
                return Reply.json(404, {"code": 20404, "message": "not found"})
            return Reply.json(200, {"sid": message.sid, "status": message.status,
                                    "error_code": int(message.error_code) if message.error_code else None,
                                    "date_updated": "Sat, 05 Dec 2026 10:00:00 +0000"})
        return Reply.json(404, {"code": 20404, "message": "not found"})

    def callback(self, sid: str, status: str, error_code: str = "", *, token: str | None = None) -> tuple[str, bytes,
                                                                                                       dict[str, str]]:
        """The URL, body and headers of a status callback for message ``sid`` (signed with ``token``)."""
        message = self.messages[sid]
        message.status, message.error_code = status, error_code
        params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": self.account_sid, "To": message.to,
                  "From": message.sender, "ApiVersion": "2010-04-01"}
        if error_code:
            params["ErrorCode"] = error_code
        signature = twilio_signature(token or self.auth_token, message.callback, params)
        return message.callback, urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}

    def push_reports(self, reports: list[tuple[str, str]], *, shuffle: bool = False, duplicate: bool = False,
                     token: str | None = None) -> list[int]:
        """POST a signed status callback for each ``(sid, status)``; return the platform's answers."""
        results = []
        for sid, status in arrange(reports, shuffle=shuffle, duplicate=duplicate):
            url, body, headers = self.callback(sid, status, "30003" if status == "undelivered" else "", token=token)
            results.append(self.deliver(url, body=body, headers=headers))
        return results

    def settings(self, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {"account_sid": self.account_sid, "auth_token": self.auth_token,
                                  "from_number": "ACMEnergia", "api_base_url": self.base_url, "timeout_seconds": 2.0}
        if self.ca is not None:
            values["ca_bundle"] = str(self.ca.ca_file)
        return values | changes
