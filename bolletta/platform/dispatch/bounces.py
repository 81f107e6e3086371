"""Bounces (RFC 3464 delivery status notifications) mapped to e-mail message statuses.

A DSN is ``multipart/report; report-type=delivery-status`` with a ``message/delivery-status`` part
(per recipient: ``Final-Recipient``, ``Action``, ``Status``, ``Diagnostic-Code``) and usually the
original message or its headers. The original ``Message-ID`` (the SMTP channel's correlation key)
finds our message: ``Action: failed`` makes it ``failed`` and, for a permanent ``5.x.x`` status,
puts the address on the tenant's suppression list; ``Action: delivered`` makes it ``delivered``;
``delayed`` changes nothing.

Bounces arrive in a tenant's Maildir (:func:`read_maildir`) or at the platform's inbound SMTP
endpoint (:class:`BounceHandler`), addressed to ``bounce+<tenant>@<platform domain>``.
"""

from __future__ import annotations

import email
import email.policy
import logging
import mailbox
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

from bolletta.channels.base import DeliveryReport
from bolletta.platform.dispatch import suppression
from bolletta.platform.dispatch.reports import apply_report, find_message
from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)

BOUNCE_ADDRESS = re.compile(r"^bounce\+([a-z0-9_]+)@", re.IGNORECASE)


@dataclass(frozen=True)
class Bounce:
    """One recipient's outcome in a DSN."""

    message_id: str
    recipient: str
    action: str
    status: str
    diagnostic: str


def _fields(block: Message) -> dict[str, str]:
    return {key.lower(): str(value).strip() for key, value in block.items()}


def _original_message_id(report: Message) -> str:
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return str(inner["Message-ID"]).strip()
        if content_type == "text/rfc822-headers":
            headers = email.message_from_string(_text(part))
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    return ""


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return str(part.get_payload())


def parse_dsn(raw: bytes) -> list[Bounce]:
    """Return the per-recipient outcomes of a DSN; an empty list when ``raw`` is not one."""
    report = email.message_from_bytes(raw, policy=email.policy.compat32)
    if report.get_content_type() != "multipart/report":
        return []
    message_id = _original_message_id(report)
    bounces = []
    for part in report.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        for block in blocks[1:]:  # the first block holds the per-message fields
            if not isinstance(block, Message):
                continue
            fields = _fields(block)
            action = fields.get("action", "").lower()
            if not action:
                continue
            recipient = fields.get("final-recipient", "").partition(";")[2].strip()
            bounces.append(Bounce(message_id=message_id, recipient=recipient, action=action,
                                  status=fields.get("status", ""), diagnostic=fields.get("diagnostic-code", "")))
    return bounces


def apply_bounce_message(rt: Runtime, tenant: str, raw: bytes) -> list[str]:
    """Apply every outcome of one DSN to the tenant's messages; return one outcome word per recipient."""
    outcomes = []
    with rt.db.tenant_session(tenant) as session:
        for bounce in parse_dsn(raw):
            if bounce.action not in ("failed", "delivered") or not bounce.message_id:
                outcomes.append("ignored")
                continue
            status = "failed" if bounce.action == "failed" else "delivered"
            error = f"DSN {bounce.status} {bounce.diagnostic}"[:300] if status == "failed" else None
            report = DeliveryReport(status=status, provider_message_id=bounce.message_id, error=error)
            message = find_message(session, "smtp", report)
            if message is None:
                outcomes.append("unmatched")
                continue
            outcomes.append(apply_report(session, message, report))
            if status == "failed" and bounce.status.startswith("5."):
                suppression.suppress(session, "email", message.ticket.address, reason="bounce",
                                     source=f"dsn {bounce.status}")
            session.commit()
    return outcomes


def read_maildir(rt: Runtime, tenant: str, path: Path) -> int:
    """Apply every new message of a Maildir as a DSN, then remove it; return how many were read."""
    box = mailbox.Maildir(path, create=False)
    read = 0
    for key in list(box.iterkeys()):
        raw = box.get_bytes(key)
        try:
            apply_bounce_message(rt, tenant, raw)
        except Exception:  # one unreadable message must not block the mailbox
            logger.exception("tenant %s: bounce %s could not be applied; left in the Maildir", tenant, key)
            continue
        box.remove(key)
        read += 1
    return read


class BounceHandler:
    """aiosmtpd handler of the inbound bounce endpoint: ``RCPT TO:<bounce+<tenant>@...>``."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if not BOUNCE_ADDRESS.match(address):
            return "550 5.1.1 not a bounce address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import anyio

        raw = envelope.original_content or envelope.content
        for address in envelope.rcpt_tos:
            match = BOUNCE_ADDRESS.match(address)
            if match:
                await anyio.to_thread.run_sync(apply_bounce_message, self.rt, match.group(1).lower(), raw)
        return "250 Message accepted"


def as_email(raw: bytes) -> EmailMessage:
    """Parse ``raw`` with the modern policy (tests and tools)."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed
