"""Creating and finding tenants: the platform row plus the tenant's own schema or file."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db import migrate
from bolletta.platform.db.database import Database, check_slug
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.errors import BollettaError, ConfigurationError, NotFound
from bolletta.tenants.config import TenantConfig, decode_config, encode_config

logger = logging.getLogger(__name__)


class TenantExists(BollettaError):
    """Raised when a tenant with the same slug is already registered."""


def create_tenant(db: Database, slug: str, name: str, config: TenantConfig | None = None) -> Tenant:
    """Register a tenant and build its schema or file; on failure nothing is left half-made.

    Raises:
        TenantExists: the slug is taken.
        ConfigurationError: the slug is invalid.
    """
    check_slug(slug)
    with db.platform_session() as session:
        if session.scalar(select(Tenant).where(Tenant.slug == slug)) is not None:
            raise TenantExists(f"Tenant {slug!r} already exists; pick another slug.")
    try:
        migrate.upgrade_tenant(db, slug)
        with db.platform_session() as session:
            tenant = Tenant(
                slug=slug,
                name=name,
                status="active",
                settings=encode_config(config or TenantConfig()),
                created_at=clock.now(),
            )
            session.add(tenant)
            session.commit()
    except Exception:
        logger.exception("provisioning tenant %s failed; removing its schema", slug)
        migrate.drop_tenant_storage(db, slug)
        raise
    logger.info("tenant %s created", slug)
    return tenant


def get_tenant(db: Database, slug: str) -> Tenant:
    """Return the tenant with ``slug``, or raise :class:`NotFound` when there is none."""
    with db.platform_session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"Tenant {slug!r} not found.")
    return tenant


def tenant_by_id(db: Database, tenant_id: int) -> Tenant:
    """Return the tenant with ``tenant_id``, or raise :class:`NotFound` when there is none."""
    with db.platform_session() as session:
        tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"Tenant #{tenant_id} not found.")
    return tenant


def tenant_config(tenant: Tenant) -> TenantConfig:
    """Decode the tenant's settings."""
    return decode_config(tenant.settings)


CONFIG_SAVED_LISTENERS: list[Callable[[str], None]] = []
"""Functions called with the slug after a tenant's settings are saved, so caches in this process drop it."""


def save_config(db: Database, slug: str, config: TenantConfig) -> None:
    """Replace the tenant's settings.

    Raises:
        ConfigurationError: the theme fails a check (colour contrast below WCAG AA, unknown font,
            oversized content block); the message gives the first problem in English.
    """
    from bolletta.platform.i18n.message import render
    from bolletta.themes.check import theme_problems

    problems = theme_problems(config)
    if problems:
        raise ConfigurationError(render(problems[0], "en"))
    with db.platform_session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise NotFound(f"Tenant {slug!r} not found.")
        tenant.settings = encode_config(config)
        session.commit()
    for listener in CONFIG_SAVED_LISTENERS:
        listener(slug)


def all_tenant_slugs(db: Database) -> list[str]:
    """List every tenant's slug. This is the one named escape for work that crosses tenants."""
    with db.platform_session() as session:
        return list(session.scalars(select(Tenant.slug).order_by(Tenant.slug)))
