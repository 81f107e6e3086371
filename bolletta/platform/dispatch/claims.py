"""The claims a dispatch batch holds while it sends, renewed so the sweeper never takes them over.

A worker claims a message by setting its ``claimed_at``. The sweeper treats a claim older than
:data:`CLAIM_TIMEOUT` on a message still ``created`` as left by a dead worker: it marks the message
``uncertain``, and the reconciliation may release it to be sent again. A batch claims all its
messages before its first send, and a slow channel rate limit can stretch its sends past that
timeout, so the batch renews its claims while it sends (:class:`HeldClaims`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Message

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=5)
"""A claim older than this on a message still ``created`` means its worker died while sending.
It must exceed the longest provider request (plugins time out within a minute)."""

RENEWALS_PER_TIMEOUT = 5
"""A batch renews its claims once ``CLAIM_TIMEOUT / RENEWALS_PER_TIMEOUT`` has passed since the last
renewal (1 minute with the default timeout)."""


class HeldClaims:
    """The messages one batch claimed at ``claimed_at`` and still holds.

    Before each send the batch calls :meth:`confirm`. Once a fifth of :data:`CLAIM_TIMEOUT` has
    passed since the claim or the last renewal, it renews every message the batch still holds in
    one ``UPDATE``. Sent messages are renewed too, because the outcomes are written only when the
    batch ends and a sent message stays ``created`` until then. The ``UPDATE`` matches only rows
    still ``created`` with the ``claimed_at`` this batch wrote. A message the sweeper has marked
    ``uncertain``, or released and another worker claimed again, no longer matches, so the batch
    lets it go and does not send it.

    A batch that ends within a minute never renews, and a slower one costs one ``UPDATE`` a minute.
    A message is sent only while its claim is less than a fifth of the timeout old, so a sweeper
    with the same timeout cannot have taken it, and the provider request has the other four fifths
    to finish.
    The timeout is read when the batch starts, so tests can shorten it.
    """

    def __init__(self, session: Session, tenant: str, message_ids: Iterable[int], claimed_at: datetime) -> None:
        self.session = session
        self.tenant = tenant
        self.held = set(message_ids)
        """The claimed messages no other worker or sweep has taken since."""
        self.claimed_at = claimed_at
        """The ``claimed_at`` of every held message: the claim's time or the last renewal's."""
        self.renew_every = CLAIM_TIMEOUT / RENEWALS_PER_TIMEOUT

    def confirm(self, message_id: int) -> bool:
        """Renew the claims when due; return whether the batch still holds ``message_id``."""
        if clock.now() - self.claimed_at >= self.renew_every:
            self.renew()
        return message_id in self.held

    def renew(self) -> None:
        """Move ``claimed_at`` of every held message to now, and drop the messages taken over."""
        if not self.held:
            return
        now = clock.now()
        renewed = set(self.session.scalars(
            update(Message)
            .where(Message.id.in_(self.held), Message.status == "created", Message.claimed_at == self.claimed_at)
            .values(claimed_at=now, updated_at=now)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        ))
        self.session.commit()
        lost = self.held - renewed
        if lost:
            logger.warning("tenant %s: %d claimed messages were taken over before their batch sent them or wrote "
                           "their outcome (messages %s); the batch leaves them to the sweeper",
                           self.tenant, len(lost), sorted(lost))
        self.held = renewed
        self.claimed_at = now

    def release(self, message_ids: Iterable[int]) -> None:
        """Clear the claims of the held messages among ``message_ids``, so another batch sends them."""
        ids = self.held.intersection(message_ids)
        if not ids:
            return
        self.session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.status == "created", Message.claimed_at == self.claimed_at)
            .values(claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        self.session.commit()
        self.held -= ids
