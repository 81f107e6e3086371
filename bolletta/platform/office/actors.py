"""Dramatiq actors of the backoffice: large exports written in the background."""

from __future__ import annotations

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.office import exports


@dramatiq.actor(max_retries=3)
def run_export(tenant: str, export_id: int) -> None:
    """Write a queued export to storage."""
    exports.run_export(runtime.current(), tenant, export_id)
