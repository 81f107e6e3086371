"""A provider's Retry-After sets the next attempt's delay; without one the backoff applies."""

from __future__ import annotations

import dramatiq
import pytest

from bolletta.channels.errors import ChannelUnavailable
from bolletta.platform.dispatch.actors import MAX_RETRY_AFTER_MS, _paced


def _raise(error: Exception) -> None:
    raise error


def test_retry_after_becomes_the_retry_delay() -> None:
    with pytest.raises(dramatiq.Retry) as caught:
        _paced(lambda: _raise(ChannelUnavailable("HTTP 429", throttled=True, retry_after=2.5)))
    assert caught.value.delay == 2_600


def test_long_retry_after_is_capped() -> None:
    with pytest.raises(dramatiq.Retry) as caught:
        _paced(lambda: _raise(ChannelUnavailable("HTTP 503", retry_after=86_400)))
    assert caught.value.delay == MAX_RETRY_AFTER_MS


def test_without_retry_after_the_error_goes_to_the_backoff() -> None:
    with pytest.raises(ChannelUnavailable):
        _paced(lambda: _raise(ChannelUnavailable("HTTP 500")))
