"""Creating and finding tenants: the platform row plus the tenant's own schema or file."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

import msgspec
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db import migrate
from bolletta.platform.db.database import Database, check_slug
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.errors import BollettaError, ConfigurationError, NotFound
from bolletta.tenants.config import TenantConfig, decode_config, encode_config
from bolletta.tenants.provisioning_errors import ProvisioningFailed, failure_reason, log_failure

logger = logging.getLogger(__name__)


class TenantExists(BollettaError):
    """Raised when a tenant with the same slug is already registered."""


def create_tenant(db: Database, slug: str, name: str, config: TenantConfig | None = None) -> Tenant:
    """Register a tenant and build its schema or file; on failure nothing is left half-made.

    Raises:
        TenantExists: the slug is taken.
        ConfigurationError: the slug is invalid.
        ProvisioningFailed: the schema or file, its migrations or the platform row could not be made.
            The reason names the database setting or folder to check; the server log has the error.
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
                settings=encode_config(with_normalized_recipients(config or TenantConfig())),
                created_at=clock.now(),
            )
            session.add(tenant)
            session.commit()
    except Exception as exc:
        log_failure(logger, f"provisioning tenant {slug}", exc)
        _drop_half_made(db, slug)
        folder = db.settings.data_path / "tenants" if db.is_sqlite else None
        raise ProvisioningFailed("tenant", failure_reason("tenant", sqlite_folder=folder)) from exc
    logger.info("tenant %s created", slug)
    return tenant


def _drop_half_made(db: Database, slug: str) -> None:
    """Remove what a failed :func:`create_tenant` made of the schema or file; a failure here is only logged."""
    try:
        migrate.drop_tenant_storage(db, slug)
    except Exception as exc:  # noqa: BLE001 (logged, and the first failure is the one reported)
        log_failure(logger, f"removing the half-made schema or file of tenant {slug} (remove it by hand)", exc)


def with_normalized_recipients(config: TenantConfig) -> TenantConfig:
    """Return ``config`` with its test recipients' mobile numbers in E.164 form, as they are stored."""
    from bolletta.tenants.addresses import normalized_recipients

    return msgspec.structs.replace(config, test_recipients=normalized_recipients(config.test_recipients))


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


SECRET_SETTINGS = ("channel_settings", "gateway_settings")
"""Settings whose values are credentials: the version history shows only which fields each plugin has."""
REDACTED = "(redacted)"


def redacted_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Return encoded settings with every credential replaced by :data:`REDACTED`."""
    shown = dict(values)
    for key in SECRET_SETTINGS:
        if isinstance(shown.get(key), dict):
            shown[key] = {plugin: dict.fromkeys(fields, REDACTED) for plugin, fields in shown[key].items()}
    poll = shown.get("sftp_poll")
    if isinstance(poll, dict):
        shown["sftp_poll"] = {name: REDACTED if name in ("password", "private_key") and value else value
                              for name, value in poll.items()}
    return shown


def save_config(db: Database, slug: str, config: TenantConfig, *, actor: str = "system",
                only: Collection[str] | None = None) -> None:
    """Replace the tenant's settings and record the change as a version in the platform audit log.

    The audit entry (action ``tenant.settings_changed``) has the changed top-level settings before
    and after, with credentials redacted, so :func:`restore_settings` can bring back an earlier
    value such as a message text. With ``only``, just those top-level settings are taken from
    ``config``, and the others keep what the row holds under the lock, so two editors saving
    different settings at once do not undo each other's change. Test recipients' mobile numbers are
    stored in E.164 form (``+393331234567``), whatever spacing or prefix was typed.

    Raises:
        ConfigurationError: the theme fails a check (colour contrast below WCAG AA, unknown font,
            oversized content block). Also raised when a changed test recipient has an unknown kind
            or an address that cannot receive it, and when changed message texts hold e-mail HTML
            that sending would clean. The message gives the problems in English, one per line.
    """
    from bolletta.platform.db.models.platform import PlatformAuditEntry
    from bolletta.platform.i18n.message import render
    from bolletta.tenants.addresses import test_recipient_errors
    from bolletta.themes.check import theme_problems

    problems = theme_problems(config)
    if problems:
        raise ConfigurationError(render(problems[0], "en"))
    after = encode_config(with_normalized_recipients(config))
    with db.platform_session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug).with_for_update())
        if tenant is None:
            raise NotFound(f"Tenant {slug!r} not found.")
        before = encode_config(decode_config(tenant.settings))
        if only is not None:
            after = {**before, **{key: after[key] for key in only}}
        changed = sorted(key for key in after if after[key] != before.get(key))
        if "test_recipients" in changed:
            # Only a changed list is checked, so a recipient stored before this check existed does
            # not block saving other settings.
            recipient_errors = test_recipient_errors(decode_config(after).test_recipients)
            if recipient_errors:
                raise ConfigurationError("\n".join(recipient_errors))
        if "message_texts" in changed:
            html_errors = email_html_errors(decode_config(after))
            if html_errors:
                raise ConfigurationError("\n".join(html_errors))
        tenant.settings = after
        if changed:
            shown_before, shown_after = redacted_settings(before), redacted_settings(after)
            session.add(PlatformAuditEntry(
                at=clock.now(), actor=actor, action=SETTINGS_CHANGED, target=slug,
                detail={"keys": changed, "before": {key: shown_before.get(key) for key in changed},
                        "after": {key: shown_after[key] for key in changed}},
            ))
        session.commit()
    for listener in CONFIG_SAVED_LISTENERS:
        listener(slug)


SETTINGS_CHANGED = "tenant.settings_changed"


def email_html_errors(config: TenantConfig) -> list[str]:
    """Name, in English, each language whose e-mail HTML contains markup that sending would clean.

    The settings pages run this check with the other message checks before saving. This function
    covers every other way in, such as the console's ``tenant settings set``.
    """
    from jinja2 import TemplateError

    from bolletta.platform.dispatch.rendering import MAX_TEXT_CHARS
    from bolletta.platform.i18n.message import render
    from bolletta.tenants.onboarding.checks import EMAIL_SAMPLE_FIELDS
    from bolletta.themes.email_html_problems import email_html_problem
    from bolletta.themes.sandbox import render_text

    errors = []
    for language, texts in sorted(config.message_texts.items()):
        if not texts.email_html.strip():
            continue
        try:
            rendered: str | None = render_text(texts.email_html, EMAIL_SAMPLE_FIELDS, autoescape=True, strict=True,
                                               max_chars=MAX_TEXT_CHARS)
        except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError):
            rendered = None  # sending falls back to the product's e-mail; the source is still checked
        problem = email_html_problem(texts.email_html, rendered)
        if problem is not None:
            errors.append(f"message_texts.{language}.email_html: {render(problem, 'en')}")
    return errors


def settings_history(db: Database, slug: str, key: str | None = None) -> list[tuple[int, Any, str, list[str]]]:
    """List the versions of the tenant's settings, newest first, as (entry id, time, actor, keys changed).

    ``key`` keeps only the changes of one setting, such as ``message_texts``.
    """
    from bolletta.platform.db.models.platform import PlatformAuditEntry

    with db.platform_session() as session:
        entries = session.scalars(
            select(PlatformAuditEntry).where(PlatformAuditEntry.action == SETTINGS_CHANGED,
                                             PlatformAuditEntry.target == slug)
            .order_by(PlatformAuditEntry.id.desc())
        )
        return [(entry.id, entry.at, entry.actor, list(entry.detail.get("keys", []))) for entry in entries
                if key is None or key in entry.detail.get("keys", [])]


def restore_settings(db: Database, slug: str, entry_id: int, keys: list[str], actor: str) -> None:
    """Set ``keys`` back to the values they had before the change recorded in audit entry ``entry_id``.

    Raises:
        NotFound: the entry is not a settings change of this tenant.
        ConfigurationError: a key was not changed by that entry, or holds credentials (they are
            redacted in the history, so enter them again instead).
    """
    from bolletta.platform.db.models.platform import PlatformAuditEntry

    with db.platform_session() as session:
        entry = session.get(PlatformAuditEntry, entry_id)
        if entry is None or entry.action != SETTINGS_CHANGED or entry.target != slug:
            raise NotFound(f"Settings version #{entry_id} of tenant {slug!r} not found.")
        before = dict(entry.detail.get("before", {}))
    for key in keys:
        if key in SECRET_SETTINGS or key == "sftp_poll":
            raise ConfigurationError(f"{key} contains credentials, which the history does not keep; enter them again.")
        if key not in before:
            raise ConfigurationError(f"Settings version #{entry_id} did not change {key}; pick a version that did.")
    current = encode_config(tenant_config(get_tenant(db, slug)))
    restored = decode_config({**current, **{key: before[key] for key in keys}})
    save_config(db, slug, restored, actor=actor)


def all_tenant_slugs(db: Database) -> list[str]:
    """List every tenant's slug. This is the one named escape for work that crosses tenants."""
    with db.platform_session() as session:
        return list(session.scalars(select(Tenant.slug).order_by(Tenant.slug)))
