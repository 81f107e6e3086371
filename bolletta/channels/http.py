"""HTTP plumbing the REST channel plugins share: a pooled client and the provider error mapping.

- Connection refused, connect timeout, HTTP 5xx and 429: the provider did not take the message,
  so :class:`ChannelUnavailable` (429 with ``throttled`` and the ``Retry-After`` seconds).
- Read timeout after the request went out, or a 2xx response that does not parse: the provider
  may have taken it, so :class:`ChannelOutcomeUnknown`.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

import httpx

from bolletta.channels.errors import ChannelOutcomeUnknown, ChannelUnavailable


class PooledClient:
    """One ``httpx.Client`` per channel instance, created on first use, shared by worker threads."""

    def __init__(self, base_url: str, *, verify: ssl.SSLContext | bool, timeout: float, **options: Any) -> None:
        self._options = {"base_url": base_url, "verify": verify, "timeout": timeout, **options}
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        """The shared client."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
                    self._client = httpx.Client(limits=limits, **self._options)
        return self._client

    def request(self, provider: str, method: str, url: str, *, unknown_on_read_timeout: bool = True,
                **kwargs: Any) -> httpx.Response:
        """Make a request and map transport failures and temporary statuses to channel errors.

        Returns responses with other statuses (2xx, 4xx) for the plugin to read.
        """
        try:
            response = self.client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ChannelUnavailable(f"{provider}: cannot connect: {type(exc).__name__}") from exc
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            if unknown_on_read_timeout:
                raise ChannelOutcomeUnknown(f"{provider}: no response after the request: {type(exc).__name__}") from exc
            raise ChannelUnavailable(f"{provider}: no response: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise ChannelUnavailable(f"{provider}: request failed: {type(exc).__name__}") from exc
        if response.status_code == 429:
            raise ChannelUnavailable(f"{provider}: HTTP 429 (rate exceeded)", throttled=True,
                                     retry_after=_retry_after(response))
        if response.status_code >= 500:
            raise ChannelUnavailable(f"{provider}: HTTP {response.status_code}", retry_after=_retry_after(response))
        return response

    def close(self) -> None:
        """Close the pooled connections."""
        if self._client is not None:
            self._client.close()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def json_or_unknown(provider: str, response: httpx.Response) -> Any:
    """Return the JSON of a success response, or raise :class:`ChannelOutcomeUnknown` when it is malformed."""
    try:
        return response.json()
    except ValueError as exc:
        raise ChannelOutcomeUnknown(f"{provider}: HTTP {response.status_code} response is not JSON") from exc
