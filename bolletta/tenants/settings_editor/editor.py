"""Saving a settings section from its form, listing its versions, and restoring one.

The console and the backoffice both call these functions, so the rules are enforced here and not
in the pages. A tenant admin's form must not carry platform-only inputs. Every save goes through
:func:`~bolletta.tenants.registry.save_config` with the actor, which records the version with its
values before and after (credentials redacted) in the platform audit log. The tenant's own audit
log also gets an entry naming the section and the actor.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select

from bolletta.platform import audit
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.errors import BollettaError, ConfigurationError, NotFound
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.runtime import Runtime
from bolletta.platform.sftp import credentials
from bolletta.tenants.config import TenantConfig, encode_config
from bolletta.tenants.onboarding.line_numbers import typed_line_numbers
from bolletta.tenants.registry import (
    SECRET_SETTINGS,
    SETTINGS_CHANGED,
    get_tenant,
    redacted_settings,
    restore_settings,
    save_config,
    tenant_config,
)
from bolletta.tenants.settings_editor.checks import Tenant, section_problems
from bolletta.tenants.settings_editor.fields import SECTIONS, Field, Section, is_platform_only
from bolletta.tenants.settings_editor.forms import drop_unused_templates, read_form, set_at, value_at

logger = logging.getLogger(__name__)

SETTINGS_SAVED = "settings.changed"
"""Action of the tenant audit entry written for each saved or restored section."""
UNRESTORABLE = frozenset({*SECRET_SETTINGS, "sftp_poll"})
"""Settings whose history is redacted, so no earlier value can be brought back."""


VERSION_INPUT = "_version"
"""Hidden input of a section form: the :func:`section_version` of the values the form was filled with."""


def section_version(section: Section, plain: dict[str, Any]) -> str:
    """Return a digest of the section's stored settings, which changes whenever any of them changes.

    Credentials count as redacted, so the digest reveals nothing about them, and a changed password
    alone does not change it (an empty password input keeps the stored one anyway).
    """
    shown = redacted_settings(plain)
    encoded = msgspec.json.encode({key: shown.get(key) for key in section.keys}, order="sorted")
    return hashlib.sha256(encoded).hexdigest()[:20]


def _stale_form_problem(section: Section, data: dict[str, str], current: dict[str, Any]) -> Text | None:
    # A form without the version input (a script) is not checked, so it overwrites as before.
    posted = data.get(VERSION_INPUT)
    if posted is None or posted == section_version(section, current):
        return None
    return T_("Someone changed this section after you opened it, so nothing was saved. The page shows the values "
              "you typed: reload it to see the saved ones, then make your changes again.")


class PlatformOnlySetting(BollettaError):
    """Raised when a tenant admin submits, or restores a version of, a setting only the platform admin changes."""

    def __init__(self, message: str, fields: list[Field] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or []
        """The platform-only fields a restore would change; empty for a rejected form."""


def platform_only_restores(section: Section, keys: list[str], before: dict[str, Any],
                           current: dict[str, Any]) -> list[Field]:
    """Return the platform-only fields that restoring ``keys`` to ``before`` would change from ``current``."""
    return [item for item in section.fields
            if item.platform_only and item.path.split(".", 1)[0] in keys
            and value_at(before, item.path) != value_at(current, item.path)]


def section_of(name: str) -> Section:
    """Return the section called ``name``, or raise :class:`NotFound`."""
    section = SECTIONS.get(name)
    if section is None:
        raise NotFound(f"{name!r} is not a settings section; use one of {', '.join(SECTIONS)}.")
    return section


def editable_fields(section: Section, platform: bool) -> list[Field]:
    """Return the fields of ``section`` the actor may change: all for a platform admin, fewer for a tenant admin."""
    return [item for item in section.fields if platform or not item.platform_only]


def _reject_platform_only(section: Section, data: dict[str, str]) -> None:
    posted = sorted(name for name in data if is_platform_only(name))
    if posted:
        raise PlatformOnlySetting(
            f"Only the platform admin may change {', '.join(posted)}; the form of section {section.name} was "
            "rejected and nothing was saved.")


def _unreadable(exc: msgspec.ValidationError) -> tuple[str, Text]:
    # msgspec ends its message with "- at `$.retention.bill_months`", the path of the bad value.
    message = str(exc)
    path = message.split("at `$.", 1)[1].split("`", 1)[0].split("[", 1)[0] if "at `$." in message else ""
    return path, T_("This value cannot be read; check its format.")


def _record_in_tenant_audit(db: Database, slug: str, section: Section, actor: str, action: str, ip: str) -> None:
    with db.tenant_session(slug) as session:
        audit.record(session, actor=actor, action=SETTINGS_SAVED, target=section.name, ip=ip,
                     detail={"section": section.name, "keys": list(section.keys), "how": action})
        session.commit()


def save_section(rt: Runtime, slug: str, name: str, data: dict[str, str], *, actor: str,
                 platform: bool, ip: str = "") -> dict[str, Text]:
    """Apply a submitted section form to the tenant's settings and save them as a new version.

    Returns the problems by field path; when there are any, nothing is saved. A field that cannot
    be read keeps its stored value while the other fields are checked, so every problem shows at once.
    A form whose :data:`VERSION_INPUT` differs from the section's current version was filled
    before someone else saved the section; it is rejected whole with the one problem keyed by
    :data:`VERSION_INPUT`, instead of silently undoing the other change. The SFTP login secrets
    are decrypted for the checks and saved encrypted again.

    Raises:
        NotFound: no such section or tenant.
        PlatformOnlySetting: ``platform`` is false and ``data`` carries a platform-only input.
    """
    section = section_of(name)
    if not platform:
        _reject_platform_only(section, data)
    db = rt.db
    tenant = get_tenant(db, slug)
    fields = editable_fields(section, platform)
    values, problems = read_form(fields, data)
    plain = encode_config(tenant_config(tenant))
    # NOTE: the version is compared before save_config takes the row lock, so a save landing in
    # between is still overwritten; the window is one request long.
    stale = _stale_form_problem(section, data, plain)
    if stale is not None:
        logger.info("tenant %s: settings section %s not saved by %s, changed since the form was opened",
                    slug, name, actor)
        return {VERSION_INPUT: stale}
    for path, value in values.items():
        set_at(plain, path, value)
    if "whatsapp_templates" in section.keys:
        drop_unused_templates(plain)
    if platform and "sftp_poll" in section.keys and not values.get("sftp_poll.host"):
        # No host: the utility uploads to our SFTP server, so the server's other inputs are ignored.
        values, problems = {}, {}
        plain["sftp_poll"] = None
    try:
        config = msgspec.convert(plain, TenantConfig)
    except msgspec.ValidationError as exc:
        path, problem = _unreadable(exc)
        return problems | {path or section.fields[0].path: problem}
    try:
        checked = _with_open_login(rt, config) if "sftp_poll" in section.keys else config
    except credentials.UndecryptableSecret as exc:
        logger.warning("tenant %s: settings section %s not saved: %s", slug, name, exc)
        return problems | {f"sftp_poll.{exc.field}": T_(
            "The stored secret does not decrypt with the platform's encryption keys: enter it again.")}
    editable = {item.path for item in fields}
    found = typed_line_numbers(section_problems(name, checked, db, Tenant(slug=slug, name=tenant.name)), data)
    for path, problem in found.items():
        # A tenant admin cannot fix a platform-only value, so its problem does not block their save.
        field_path = path if path in editable else path.rpartition(".")[0]
        if field_path in editable:
            problems.setdefault(path, problem)
    if problems:
        return problems
    save_config(db, slug, credentials.sealed_config(rt, config), actor=actor, only=section.keys)
    _record_in_tenant_audit(db, slug, section, actor, "saved", ip)
    logger.info("tenant %s: settings section %s saved by %s", slug, name, actor)
    return {}


def _with_open_login(rt: Runtime, config: TenantConfig) -> TenantConfig:
    """Return ``config`` with its SFTP login decrypted, for the checks only.

    The config saved is the one submitted, so a secret left empty in the form keeps its stored
    token unchanged.

    Raises:
        credentials.UndecryptableSecret: a stored secret does not decrypt with any configured key.
    """
    if config.sftp_poll is None:
        return config
    return msgspec.structs.replace(config, sftp_poll=credentials.open_login(rt, config.sftp_poll))


@dataclass(frozen=True)
class Version:
    """One recorded change of a section's settings, with the values before and after it (redacted)."""

    id: int
    at: datetime
    actor: str
    keys: list[str]
    """The section's top-level settings the change touched."""
    before: dict[str, Any]
    after: dict[str, Any]


def section_history(db: Database, slug: str, name: str, limit: int = 20) -> list[Version]:
    """List the newest ``limit`` changes that touched section ``name`` of the tenant, newest first."""
    section = section_of(name)
    found: list[Version] = []
    with db.platform_session() as session:
        entries = session.scalars(
            select(PlatformAuditEntry)
            .where(PlatformAuditEntry.action == SETTINGS_CHANGED, PlatformAuditEntry.target == slug)
            .order_by(PlatformAuditEntry.id.desc())
        )
        for entry in entries:
            keys = [key for key in section.keys if key in entry.detail.get("keys", [])]
            if keys:
                found.append(Version(
                    id=entry.id, at=entry.at, actor=entry.actor, keys=keys,
                    before={key: entry.detail.get("before", {}).get(key) for key in keys},
                    after={key: entry.detail.get("after", {}).get(key) for key in keys}))
            if len(found) >= limit:
                break
    return found


def _changed_before(db: Database, slug: str, entry_id: int) -> tuple[list[str], dict[str, Any]]:
    with db.platform_session() as session:
        entry = session.get(PlatformAuditEntry, entry_id)
        if entry is None or entry.action != SETTINGS_CHANGED or entry.target != slug:
            raise NotFound(f"Settings version #{entry_id} of tenant {slug!r} not found.")
        return list(entry.detail.get("keys", [])), dict(entry.detail.get("before", {}))


def restore_section(db: Database, slug: str, name: str, entry_id: int, *, actor: str, platform: bool,
                    ip: str = "") -> list[str]:
    """Set the section's settings changed by version ``entry_id`` back to their values before it.

    Returns the top-level settings restored. The restore is itself saved as a new version.

    Raises:
        NotFound: no such section, or the version is not a settings change of this tenant.
        ConfigurationError: the version did not change this section.
        PlatformOnlySetting: ``platform`` is false and restoring would change a platform-only setting.
    """
    section = section_of(name)
    changed, before = _changed_before(db, slug, entry_id)
    keys = [key for key in section.keys if key in changed and key not in UNRESTORABLE]
    if not keys:
        raise ConfigurationError(f"Settings version #{entry_id} did not change section {name}; pick one that did.")
    if not platform:
        current = encode_config(tenant_config(get_tenant(db, slug)))
        blocked = platform_only_restores(section, keys, before, current)
        if blocked:
            raise PlatformOnlySetting(
                f"Version #{entry_id} would also change {blocked[0].path}, which only the platform admin may change.",
                blocked)
    restore_settings(db, slug, entry_id, keys, actor)
    _record_in_tenant_audit(db, slug, section, actor, "restored", ip)
    logger.info("tenant %s: settings section %s restored from version %d by %s", slug, name, entry_id, actor)
    return keys
