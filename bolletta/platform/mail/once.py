"""Sending a staff e-mail once per actor message, even when the broker delivers it twice.

Delivery is at least once, so a worker killed after sending but before acknowledging would send
the same e-mail again. The actor claims a key derived from its task outbox row first; a second
delivery finds the claim and sends nothing. A send that fails releases the claim so the retry can
send. A crash between claim and send loses that one e-mail, which is the safer side for mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dramatiq.middleware import CurrentMessage
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import SentNotice
from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)


def current_notice_key() -> str | None:
    """``outbox:<row id>`` of the message being processed, or ``None`` outside an outbox message."""
    message = CurrentMessage.get_current_message()
    row = message.options.get(tasks.OUTBOX_OPTION) if message is not None else None
    return f"outbox:{row[1]}" if row else None


def send_once(rt: Runtime, tenant: str, send: Callable[[], int], key: str | None = None) -> int:
    """Run ``send`` unless the same notice was sent already; return what it returned, or 0."""
    key = key or current_notice_key()
    if key is None:
        return send()
    with rt.db.tenant_session(tenant) as session:
        session.add(SentNotice(key=key, sent_at=clock.now()))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            logger.info("tenant %s: notice %s already sent; not sending again", tenant, key)
            return 0
    try:
        return send()
    except BaseException:
        with rt.db.tenant_session(tenant) as session:
            session.execute(delete(SentNotice).where(SentNotice.key == key))
            session.commit()
        raise
