"""A tenant's life after activation: suspension, resumption and off-boarding.

Suspending stops everything that acts for the tenant and deletes nothing: customer links show
the neutral page for links that are not valid, the SFTP login is refused, the scheduler skips the
tenant, and messages already queued wait unsent. Resuming queues those messages again.

Off-boarding first suspends the tenant and writes an archive of all its data (every table as JSON
Lines and as CSV, the stored files, and its settings without credentials). Only when the archive
is complete does it delete the tenant everywhere: stored files, SFTP folders and login, staff
users, API tokens, schedule slots, the onboarding draft, Redis keys naming the tenant, the schema
or database file and the tenant's row. The platform audit log keeps one entry with the slug and
the counts.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from bolletta.platform import clock, tasks
from bolletta.platform.db import migrate
from bolletta.platform.db.base import TenantBase
from bolletta.platform.db.models.platform import (
    ApiToken,
    LoginFailure,
    PasswordReset,
    PlatformAuditEntry,
    ScheduleSlot,
    SftpAccount,
    SftpAccountKey,
    Tenant,
    TenantDraft,
    User,
)
from bolletta.platform.db.models.tenant import Message, Ticket
from bolletta.platform.errors import InvalidTransition, NotFound
from bolletta.platform.runtime import Runtime
from bolletta.platform.sftp.layout import InboxLayout
from bolletta.platform.storage import storage_from_settings
from bolletta.tenants.registry import CONFIG_SAVED_LISTENERS, get_tenant

logger = logging.getLogger(__name__)

ACTIVE = "active"
SUSPENDED = "suspended"
CREDENTIAL_SETTINGS = ("channel_settings", "gateway_settings", "sftp_poll")
"""Settings left out of the off-boarding archive because they contain credentials."""


@dataclass
class OffboardReport:
    """Counts of what an off-boarding exported and then deleted."""

    archive: Path
    rows: dict[str, int] = field(default_factory=dict)
    """Rows exported per table."""
    files: int = 0
    staff_users: int = 0


def _set_status(rt: Runtime, slug: str, status: str, actor: str, action: str, detail: dict[str, Any]) -> None:
    with rt.db.platform_session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug).with_for_update())
        if tenant is None:
            raise NotFound(f"Tenant {slug!r} not found.")
        if tenant.status == status:
            raise InvalidTransition(f"Tenant {slug} is already {status}.")
        tenant.status = status
        session.add(PlatformAuditEntry(at=clock.now(), actor=actor, action=action, target=slug, detail=detail))
        session.commit()
    for listener in CONFIG_SAVED_LISTENERS:
        listener(slug)


def suspend(rt: Runtime, slug: str, actor: str, reason: str = "") -> None:
    """Suspend the tenant; nothing is deleted.

    Raises:
        NotFound: there is no such tenant.
        InvalidTransition: the tenant is already suspended.
    """
    _set_status(rt, slug, SUSPENDED, actor, "tenant.suspended", {"reason": reason[:500]})
    logger.info("tenant %s suspended by %s", slug, actor)


def resume(rt: Runtime, slug: str, actor: str) -> int:
    """Make a suspended tenant active again and queue its unsent messages; return how many.

    Raises:
        NotFound: there is no such tenant.
        InvalidTransition: the tenant is already active.
    """
    _set_status(rt, slug, ACTIVE, actor, "tenant.resumed", {})
    with rt.db.tenant_session(slug) as session:
        waiting = list(session.scalars(
            select(Message.id).join(Ticket, Ticket.id == Message.ticket_id)
            .where(Message.status == "created", Message.claimed_at.is_(None), Ticket.revoked_at.is_(None))
        ))
        tasks.defer_many(session, "send_message", [(slug, message_id) for message_id in waiting])
        session.commit()
    logger.info("tenant %s resumed by %s, %d messages queued again", slug, actor, len(waiting))
    return len(waiting)


def offboard(rt: Runtime, slug: str, actor: str, archive: Path) -> OffboardReport:
    """Export all of the tenant's data to ``archive`` (a new ZIP file), then delete the tenant.

    Raises:
        NotFound: there is no such tenant.
        FileExistsError: ``archive`` already exists; an export never overwrites a file.
        OSError: the archive could not be written; nothing was deleted.
    """
    tenant = get_tenant(rt.db, slug)
    if archive.exists():
        raise FileExistsError(f"{archive} already exists; choose a new file name for the export.")
    if tenant.status == ACTIVE:
        suspend(rt, slug, actor, reason="off-boarding")
    report = OffboardReport(archive=archive)
    partial = archive.with_name(archive.name + ".part")
    try:
        _export(rt, tenant, partial, report)
        partial.replace(archive)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _delete_everywhere(rt, tenant, report)
    with rt.db.platform_session() as session:
        session.add(PlatformAuditEntry(
            at=clock.now(), actor=actor, action="tenant.offboarded", target=slug,
            detail={"rows": sum(report.rows.values()), "files": report.files, "staff_users": report.staff_users},
        ))
        session.commit()
    logger.info("tenant %s off-boarded by %s: %d rows and %d files exported, then deleted", slug, actor,
                sum(report.rows.values()), report.files)
    return report


def _export(rt: Runtime, tenant: Tenant, path: Path, report: OffboardReport) -> None:
    storage = storage_from_settings(rt.settings)
    settings = {key: value for key, value in (tenant.settings or {}).items() if key not in CREDENTIAL_SETTINGS}
    with zipfile.ZipFile(path, "x", compression=zipfile.ZIP_DEFLATED) as archive:
        summary = {"slug": tenant.slug, "name": tenant.name, "exported_at": clock.now().isoformat(),
                   "settings": settings}
        archive.writestr("tenant.json", json.dumps(summary, indent=2, ensure_ascii=False, default=_plain))
        with rt.db.tenant_session(tenant.slug) as session:
            for table in TenantBase.metadata.sorted_tables:
                columns = [column.name for column in table.columns]
                count = 0
                # A ZIP file takes one entry at a time, so each table is read twice: JSON Lines, then CSV.
                with archive.open(f"data/{table.name}.jsonl", "w") as jsonl:
                    for row in session.execute(select(table)).yield_per(1000):
                        values = {name: _plain(value) for name, value in zip(columns, row, strict=True)}
                        jsonl.write(json.dumps(values, ensure_ascii=False).encode() + b"\n")
                        count += 1
                with archive.open(f"data/{table.name}.csv", "w") as raw_csv:
                    text_csv = io.TextIOWrapper(raw_csv, encoding="utf-8-sig", newline="")
                    writer = csv.writer(text_csv, delimiter=";")
                    writer.writerow(columns)
                    for row in session.execute(select(table)).yield_per(1000):
                        writer.writerow([_cell(_plain(value)) for value in row])
                    text_csv.flush()
                    text_csv.detach()
                report.rows[table.name] = count
        for full_key in storage.tenant_keys(tenant.slug):
            with storage.open(full_key) as source, archive.open(f"files/{full_key.split('/', 1)[1]}", "w") as target:
                shutil.copyfileobj(source, target)
            report.files += 1


def _plain(value: Any) -> Any:
    """Return ``value`` as JSON can write it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _cell(value: Any) -> str:
    """Return ``value`` as one CSV cell; lists and objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _delete_broker_keys(rt: Runtime, slug: str) -> None:
    """Delete the Redis keys with the tenant's slug as one ``:``-separated part, when the broker is Redis."""
    url = rt.settings.broker_url
    if not url.startswith(("redis://", "rediss://")):
        return
    import redis

    client = redis.Redis.from_url(url)
    try:
        for pattern in (f"*:{slug}", f"*:{slug}:*", f"{slug}:*"):
            for key in client.scan_iter(match=pattern, count=1000):
                client.delete(key)
    finally:
        client.close()


def _delete_everywhere(rt: Runtime, tenant: Tenant, report: OffboardReport) -> None:
    storage = storage_from_settings(rt.settings)
    storage.remove_tenant(tenant.slug)
    layout = InboxLayout(rt.settings.data_path / "sftp")
    shutil.rmtree(layout.area(tenant.slug), ignore_errors=True)
    shutil.rmtree(layout.partial(tenant.slug), ignore_errors=True)
    with rt.db.platform_session() as session:
        users = list(session.execute(select(User.id, User.username).where(User.tenant_id == tenant.id)))
        user_ids = [row.id for row in users]
        accounts = select(SftpAccount.id).where(SftpAccount.tenant_id == tenant.id)
        session.execute(delete(SftpAccountKey).where(SftpAccountKey.account_id.in_(accounts)))
        session.execute(delete(SftpAccount).where(SftpAccount.tenant_id == tenant.id))
        session.execute(delete(ApiToken).where(ApiToken.tenant_id == tenant.id))
        session.execute(delete(PasswordReset).where(PasswordReset.user_id.in_(user_ids)))
        session.execute(delete(LoginFailure).where(LoginFailure.username.in_([row.username for row in users])))
        session.execute(delete(User).where(User.tenant_id == tenant.id))
        slots = [key for key in session.scalars(select(ScheduleSlot.key)) if key.endswith(f":{tenant.slug}")]
        session.execute(delete(ScheduleSlot).where(ScheduleSlot.key.in_(slots)))
        session.execute(delete(TenantDraft).where(TenantDraft.activated_slug == tenant.slug))
        session.execute(update(Tenant).where(Tenant.id == tenant.id).values(settings={}))
        session.commit()
        report.staff_users = len(users)
    _delete_broker_keys(rt, tenant.slug)
    migrate.drop_tenant_storage(rt.db, tenant.slug)
    with rt.db.platform_session() as session:
        session.execute(delete(Tenant).where(Tenant.id == tenant.id))
        session.commit()
    for listener in CONFIG_SAVED_LISTENERS:
        listener(tenant.slug)
