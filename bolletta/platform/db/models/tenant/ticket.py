from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bolletta.platform.db.base import TenantBase


class Ticket(TenantBase):
    """One personal, time-limited link to one bill for one contact.

    The token itself is never stored: ``token_hash`` is its HMAC-SHA256 under a key derived from
    the master secret, set when the first message is sent.
    """

    __tablename__ = "tickets"
    # The unique key also serves lookups by bill, and the index on job and time lookups by job.
    __table_args__ = (
        UniqueConstraint("bill_id", "channel", "address", "is_test", "test_round"),
        Index("ix_tickets_job_id_created_at", "job_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(254))
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    test_round: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_viewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    latest_status: Mapped[str | None] = mapped_column(String(20))
    """Status of the newest message, kept by a database trigger on ``messages``; never written by code."""
    origin: Mapped[str] = mapped_column(String(20), default="dispatch", server_default="dispatch")
    """``dispatch``, ``test``, ``fallback`` (after another channel failed), ``staff`` or ``bill_email``."""
    previous_ticket_id: Mapped[int | None] = mapped_column(Integer)
    """For a fallback or staff re-send to another contact: the ticket it follows."""

    messages: Mapped[list[Message]] = relationship(order_by="Message.id", back_populates="ticket")


class Message(TenantBase):
    """One send of a ticket's link through a channel plugin."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    plugin: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), index=True)
    """``created``, ``rejected``, ``sent``, ``delivered``, ``failed``, ``timeout``, ``uncertain``."""
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Set by the one worker that hands the message to the provider; a message claimed but still
    ``created`` after a crash has an unknown outcome and is reconciled, never re-sent blindly."""
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    """Set while the message waits (quiet hours, a paused dispatch, a fallback delay); the sweeper
    queues it again once the clock passes it."""
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """WhatsApp read receipt time."""
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Time of the last delivery report or status answer applied."""
    sms_encoding: Mapped[str | None] = mapped_column(String(8))
    """``gsm7`` or ``ucs2`` for SMS."""
    sms_parts: Mapped[int | None] = mapped_column(Integer)
    """Parts the SMS text takes (what the operator bills)."""
    origin: Mapped[str] = mapped_column(String(40), default="dispatch", server_default="dispatch")
    """``dispatch``, ``test``, ``fallback``, ``user:<name>`` (staff re-send) or ``bill_email``."""

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class Event(TenantBase):
    """A customer action (``link_opened``, ``viewed``, ``payment_completed``...) on a ticket.

    ``ticket_id`` and ``bill_id`` have no foreign keys: checking them was two thirds of the cost of
    each insert, and a busy portal adds thousands of view events a second. Events are only written
    for a ticket or bill just read, and retention deletes a bill's events before the bill.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)
    bill_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str | None] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class StoredMessage(TenantBase):
    """A message the ``outbox`` channel kept instead of sending (demo, tests, development)."""

    __tablename__ = "stored_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plugin: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Suppression(TenantBase):
    """A contact the tenant must not message (unsubscribe, provider opt-out, staff, hard bounce)."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    """``email``, ``sms`` or ``whatsapp``; an SMS and WhatsApp number are suppressed separately."""
    address: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(40))
    """``unsubscribe``, ``opt_out``, ``bounce`` or ``staff``."""
    source: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
