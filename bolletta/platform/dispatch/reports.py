"""Applying delivery reports (callbacks and status query results) to messages, never backwards.

A message's status only moves forward: ``created``/``uncertain`` → ``sent`` → ``timeout`` →
``delivered``/``failed``/``rejected``. The first final status wins, so a duplicate report, a late
``sent`` after ``delivered``, or a ``delivered`` after ``failed`` changes nothing. A ``read``
receipt sets ``read_at`` (and ``delivered`` when the message was not final yet). Every change is a
compare-and-set on the stored status, so two reports handled at once cannot both apply.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bolletta.channels.base import DeliveryReport
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Message, Ticket
from bolletta.platform.dispatch import suppression
from bolletta.platform.webhooks.events import emit

logger = logging.getLogger(__name__)

RANK = {"created": 0, "uncertain": 0, "sent": 1, "timeout": 2, "delivered": 3, "failed": 3, "rejected": 3}
FINAL = frozenset({"delivered", "failed", "rejected"})


def find_message(session: Session, plugin: str, report: DeliveryReport) -> Message | None:
    """Return the message a report is about, matched by provider id or by our idempotency key."""
    conditions = []
    if report.provider_message_id:
        conditions.append(Message.provider_message_id == report.provider_message_id)
    if report.idempotency_key:
        conditions.append(Message.idempotency_key == report.idempotency_key)
    if not conditions:
        return None
    return session.scalars(
        select(Message).where(Message.plugin == plugin, or_(*conditions)).order_by(Message.id).limit(1)
    ).first()


def apply_report(session: Session, message: Message, report: DeliveryReport) -> str:
    """Apply ``report`` to ``message`` in the session's transaction; return ``applied`` or ``ignored``.

    The caller commits.
    """
    now = clock.now()
    at = clock.as_utc(report.at) if report.at else now
    values: dict[str, object] = {"reported_at": now, "updated_at": now}
    if report.provider_message_id and not message.provider_message_id:
        values["provider_message_id"] = report.provider_message_id
    if report.opt_out:
        ticket = session.get_one(Ticket, message.ticket_id)
        suppression.suppress(session, ticket.channel, ticket.address, reason="opt_out",
                             source=f"report:{message.plugin}")

    status = report.status
    allowed_from: tuple[str, ...]
    read_recorded = False
    if status == "read":
        if message.read_at is None:
            marked = session.execute(update(Message).where(Message.id == message.id, Message.read_at.is_(None))
                                     .values(read_at=at, **values).execution_options(synchronize_session=False))
            read_recorded = marked.rowcount == 1  # type: ignore[attr-defined]
        status = "delivered"
    if status == "sent":
        allowed_from = ("created", "uncertain")
        values["sent_at"] = message.sent_at or at
    elif status == "delivered":
        allowed_from = ("created", "uncertain", "sent", "timeout")
        values["delivered_at"] = at
        values["sent_at"] = message.sent_at or at
    elif status in ("failed", "rejected"):
        allowed_from = ("created", "uncertain", "sent", "timeout")
        values["error"] = (report.error or status)[:500]
    else:
        return "ignored"
    result = session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status.in_(allowed_from))
        .values(status=status, claimed_at=message.claimed_at or now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return "applied" if read_recorded else "ignored"
    logger.info("message %d: %s -> %s by report", message.id, message.status, status)
    emit(session, "ticket.delivery_changed", f"ticket:{message.ticket_id}", {
        "ticket_id": message.ticket_id, "message_id": message.id, "channel_plugin": message.plugin,
        "from_status": message.status, "to_status": status, "at": at.isoformat(),
    })
    return "applied"


def timeout_after(hours: int = 48) -> datetime:
    """Return the ``sent_at`` before which an SMS without a report becomes ``timeout``."""
    from datetime import timedelta

    return clock.now() - timedelta(hours=hours)
