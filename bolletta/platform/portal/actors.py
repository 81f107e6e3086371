"""Dramatiq actors of the customer pages; each takes plain values and is safe to run twice."""

from __future__ import annotations

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.portal import new_link, prerender


@dramatiq.actor(max_retries=3, min_backoff=2_000)
def renew_link(tenant: str, ticket_id: int) -> None:
    """Send a new link of a ticket whose contact asked for one on the invalid-link page."""
    new_link.renew_link(runtime.current(), tenant, ticket_id)


@dramatiq.actor(max_retries=3, min_backoff=2_000, time_limit=600_000)
def render_bill_pages(tenant: str, bill_ids: list[int]) -> None:
    """Render the summary pages of bills whose tickets were just issued into the tenant's storage."""
    prerender.render_bill_pages(runtime.current(), tenant, bill_ids)
