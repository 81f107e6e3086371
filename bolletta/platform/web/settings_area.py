"""The mount point of the settings pages in one web area (the console or the backoffice), and its tenant lookup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.types import Guard

from bolletta.platform.db.models.platform import Tenant

PageRenderer = Callable[..., Response[str]]
"""``(request, template, tenant, status_code=..., **context)`` rendering a page of the area."""


@dataclass(frozen=True)
class SettingsArea:
    """The paths, guards and page frame of one web area's settings pages, and how they find the tenant and actor."""

    name: str
    """Prefix of the route names (``admin`` or ``office``)."""
    path: str
    """Path of the section list; may contain ``{slug:str}``."""
    guards: list[Guard]
    platform: bool
    """True where every field may be changed, false where platform-only fields are read-only."""
    tenant_of: Callable[[Request[Any, Any, Any]], Awaitable[Tenant]]
    actor_of: Callable[[Request[Any, Any, Any]], str]
    render: PageRenderer
    base_template: str
    """The area's page frame, which the settings templates extend."""

    def url(self, tenant: Tenant) -> str:
        """Return the path of the section list of ``tenant``."""
        return self.path.replace("{slug:str}", tenant.slug)
