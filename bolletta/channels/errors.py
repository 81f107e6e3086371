"""Errors raised by channel plugins and by the platform when it runs them.

- ``ChannelError``: base of every error a channel raises on purpose.
  - ``ChannelUnavailable``: the provider could not be reached or returned a temporary failure, so
    the worker retries the send later.
  - ``ChannelOutcomeUnknown``: the provider may have taken the message but its answer was lost,
    so the platform reconciles instead of retrying.
  - ``ChannelConfigError``: the channel's settings or context cannot work, so retrying without a
    configuration change is pointless.

A permanent rejection of one message (invalid address, content rejected) is not an exception, so
``send`` returns a ``SendResult`` with status ``'rejected'``.
"""

from __future__ import annotations

from bolletta.platform.errors import BollettaError


class ChannelError(BollettaError):
    """Base of the channel errors; the message never contains a recipient, body or secret."""


class ChannelUnavailable(ChannelError):
    """Raised when the provider is unreachable, timed out or returned a temporary failure."""

    def __init__(self, message: str, *, retry_after: float | None = None, throttled: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        """Seconds the provider asked us to wait (``Retry-After``), if it said."""
        self.throttled = throttled
        """True for HTTP 429: the account's rate was exceeded, so the sender slows down."""


class ChannelOutcomeUnknown(ChannelError):
    """Raised when the request may have reached the provider but its answer was lost or unreadable
    (a read timeout, a malformed success answer). The platform marks the message ``uncertain`` and
    reconciles it through :meth:`~bolletta.channels.base.Channel.query_status`; it never re-sends blindly."""


class ChannelConfigError(ChannelError):
    """Raised when the channel's settings are invalid or its context lacks what it needs."""
