"""Activation: turn a complete draft into a working tenant, all of it or nothing.

Provisioning runs in :data:`PROVISIONING` order: the tenant's schema or database file with its
migrations and settings, the SFTP area and login, the storage prefix, the first tenant admin, and
the invitation e-mail. Each step's undo is registered before the step runs, so a failure anywhere,
even inside a step, undoes every step reached, newest first, and the draft stays as it was. The
invitation goes last because an e-mail cannot be called back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy import delete, select, update

from bolletta.platform import clock
from bolletta.platform.db import migrate
from bolletta.platform.db.models.platform import (
    PasswordReset,
    PlatformAuditEntry,
    SftpAccount,
    SftpAccountKey,
    Tenant,
    TenantDraft,
    User,
)
from bolletta.platform.errors import BollettaError, ConfigurationError
from bolletta.platform.i18n.catalog import gettext
from bolletta.platform.i18n.dynamic_ids import N_
from bolletta.platform.i18n.message import T_, Text, render
from bolletta.platform.mail.sender import send_mail
from bolletta.platform.runtime import Runtime
from bolletta.platform.sftp.layout import InboxLayout
from bolletta.platform.storage import storage_from_settings, tenant_key
from bolletta.tenants import accounts, images, registry
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.onboarding import checks, steps
from bolletta.tenants.onboarding.drafts import Draft, load_draft
from bolletta.tenants.provisioning_errors import ProvisioningFailed, failure_reason, log_failure

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(hours=72)
INVITATION_LANGUAGE = "it"
MARKER_KEY = "tenant.json"
"""Object written under the tenant's storage prefix at activation; it contains no personal data."""
INVITATION_SUBJECT = N_("Bolletta Smart: your account for {utility}")
INVITATION_TEXT = N_(
    "An account on Bolletta Smart was created for you as administrator of {utility}.\n\n"
    "Username: {username}\n\nChoose your password within 72 hours at this link:\n\n{link}\n\n"
    "If you did not expect this e-mail, ignore it."
)


class ActivationError(BollettaError):
    """Raised when a draft cannot be activated.

    ``step`` names the wizard or provisioning step, ``reason`` is the translatable cause the page
    shows, and ``field`` names the step's field whose check failed, when one did.
    """

    def __init__(self, step: str, reason: Text, field: str = "") -> None:
        super().__init__(f"Activation stopped at {step}: {render(reason, 'en')} Nothing was kept; fix the cause "
                         "and activate again.")
        self.step = step
        self.reason = reason
        self.field = field


@dataclass
class Provisioning:
    """The parts of a tenant that activation has made so far, and how to undo each."""

    rt: Runtime
    draft: Draft
    slug: str
    config: TenantConfig
    undo: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    user_id: int | None = None


def build_config(draft: Draft) -> TenantConfig:
    """Return the tenant settings the draft's answers give, starting from the product defaults."""
    answers: dict[str, Any] = {name: msgspec.to_builtins(struct) for name, struct in draft.answers.items()}
    look, senders, flow = answers["look"], answers["senders"], answers["flow"]
    raw: dict[str, Any] = msgspec.to_builtins(TenantConfig())
    raw |= {
        "vat_number": answers["company"]["vat_number"],
        "notification_emails": answers["company"]["notification_emails"],
        "branding": look["branding"],
        "link_domain": look["link_domain"],
        "message_texts": answers["messages"]["texts"],
        "whatsapp_templates": answers["messages"]["whatsapp_templates"],
        "channel_plugins": senders["channel_plugins"],
        "channel_settings": senders["channel_settings"],
        "channel_accounts": {kind: name for kind, name in senders.get("channel_accounts", {}).items() if name},
        "enabled_channels": sorted(set(senders["channel_plugins"].values())),
        "sms_sender": senders["sms_sender"],
        "email_sender": senders["email_sender"],
        "enabled_gateways": answers["payments"]["enabled_gateways"],
        "gateway_settings": answers["payments"]["gateway_settings"],
        "flow_formats": flow["flow_formats"],
        "ticket_validity_days": flow["ticket_validity_days"],
        "test_recipients": flow["test_recipients"],
        "quiet_hours": flow["quiet_hours"],
        "may_start_dispatch": flow["may_start_dispatch"],
        "retention": flow["retention"],
    }
    raw |= answers["contacts"]
    raw["portal"] = raw["portal"] | {
        "font": look["font"], "section_order": look["section_order"], "hidden_sections": look["hidden_sections"],
        "privacy_url": look["privacy_url"], "languages": answers["languages"]["languages"],
        "voices": answers["languages"]["voices"],
    }
    messages, logo, slug = draft.answers["messages"], draft.answers["look"], answers["company"]["slug"]
    assert isinstance(messages, steps.Messages) and isinstance(logo, steps.Look)
    if messages.email_header is not None:
        raw["email_header_key"] = images.email_header_key(messages.email_header.data)
        raw["email_header_type"] = messages.email_header.content_type
    if logo.logo is not None:
        raw["portal"]["logo_url"] = images.logo_url(slug, logo.logo.data)
    return msgspec.convert(raw, TenantConfig)


def activate(rt: Runtime, draft_id: int, actor: str) -> str:
    """Provision the tenant of a complete draft and return its slug.

    Every step's checks run again first, because answers saved days ago may no longer hold (a slug
    or username taken since).

    Raises:
        ActivationError: a step is incomplete or fails its checks, or provisioning failed; nothing
            of the tenant is left behind.
    """
    draft = load_draft(rt.db, draft_id)
    if draft.activated_slug is not None:
        raise ActivationError("activation", T_("Draft #{draft} is already the utility {slug}.", draft=draft_id,
                                               slug=draft.activated_slug))
    for step in steps.STEPS:
        if step not in draft.completed:
            raise ActivationError(step, T_("The step is not complete."))
        problems = checks.step_problems(step, draft.answers[step], rt.db, draft_id)
        if problems:
            _mark_incomplete(rt, draft_id, step)
            field_name, problem = next(iter(problems.items()))
            raise ActivationError(step, problem, field=field_name)

    company = draft.answers["company"]
    assert isinstance(company, steps.Company)
    work = Provisioning(rt=rt, draft=draft, slug=company.slug, config=build_config(draft))
    _claim(rt, draft_id, company.slug)
    current = "activation"
    try:
        for name, run in PROVISIONING:
            current = name
            run(work)
        _mark_activated(work, actor)
    except Exception as exc:
        log_failure(logger, f"onboarding: activating draft {draft_id} as {work.slug} at {current}", exc)
        _undo(work)
        _release(rt, draft_id)
        raise ActivationError(current, _reason(work, current, exc)) from exc
    logger.info("onboarding: draft %d activated as tenant %s", draft_id, work.slug)
    return work.slug


def _reason(work: Provisioning, step: str, exc: Exception) -> Text:
    """Return what the admin reads about ``exc``: never its own English text, which the log has."""
    if isinstance(exc, (ActivationError, ProvisioningFailed)):
        return exc.reason
    return failure_reason(step, sftp_folder=work.rt.settings.data_path / "sftp")


def _claim(rt: Runtime, draft_id: int, slug: str) -> None:
    """Mark the draft as being activated, so a second click at the same time stops here."""
    with rt.db.platform_session() as session:
        claimed = session.execute(
            update(TenantDraft).where(TenantDraft.id == draft_id, TenantDraft.activated_slug.is_(None))
            .values(activated_slug=slug, updated_at=clock.now())
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
    if not claimed:
        raise ActivationError("activation", T_("Draft #{draft} is already being activated or was activated.",
                                               draft=draft_id))


def _mark_incomplete(rt: Runtime, draft_id: int, step: str) -> None:
    """Take ``step`` off the draft's complete steps, because its checks no longer pass."""
    with rt.db.platform_session() as session:
        row = session.get(TenantDraft, draft_id, with_for_update=True)
        if row is not None:
            row.completed = [name for name in row.completed if name != step]
            session.commit()


def _release(rt: Runtime, draft_id: int) -> None:
    """Give a draft whose activation failed back to the wizard."""
    with rt.db.platform_session() as session:
        session.execute(update(TenantDraft).where(TenantDraft.id == draft_id).values(activated_slug=None))
        session.commit()


def _undo(work: Provisioning) -> None:
    for name, undo in reversed(work.undo):
        try:
            undo()
        except Exception:  # one failed undo must not stop the others
            logger.exception("onboarding: undoing %s of tenant %s failed; remove it by hand", name, work.slug)


def _provision_tenant(work: Provisioning) -> None:
    db, slug = work.rt.db, work.slug

    def undo() -> None:
        with db.platform_session() as session:
            session.execute(delete(Tenant).where(Tenant.slug == slug))
            session.commit()
        migrate.drop_tenant_storage(db, slug)

    work.undo.append(("tenant", undo))
    company = work.draft.answers["company"]
    assert isinstance(company, steps.Company)
    registry.create_tenant(db, slug, company.legal_name, work.config)


def _provision_sftp(work: Provisioning) -> None:
    db, slug = work.rt.db, work.slug
    flow = work.draft.answers["flow"]
    assert isinstance(flow, steps.Flow)
    layout = InboxLayout(work.rt.settings.data_path / "sftp")

    def undo() -> None:
        with db.platform_session() as session:
            account_id = session.scalar(select(SftpAccount.id).where(SftpAccount.username == flow.sftp_username))
            if account_id is not None:
                session.execute(delete(SftpAccountKey).where(SftpAccountKey.account_id == account_id))
                session.execute(delete(SftpAccount).where(SftpAccount.id == account_id))
            session.commit()
        shutil.rmtree(layout.area(slug), ignore_errors=True)
        shutil.rmtree(layout.partial(slug), ignore_errors=True)

    work.undo.append(("sftp", undo))
    layout.create(slug)
    with db.platform_session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        session.add(SftpAccount(username=flow.sftp_username, password_hash=flow.sftp_password_hash,
                                tenant_id=tenant_id, created_at=clock.now()))
        session.commit()
    for line in flow.sftp_public_keys:
        accounts.add_sftp_key(db, flow.sftp_username, line)


def _provision_storage(work: Provisioning) -> None:
    storage = storage_from_settings(work.rt.settings)
    full_key = tenant_key(work.slug, MARKER_KEY)
    work.undo.append(("storage", lambda: storage.delete(full_key)))
    marker = {"slug": work.slug, "activated_at": clock.now().isoformat(), "draft": work.draft.id}
    storage.put(work.slug, MARKER_KEY, json.dumps(marker).encode())
    look, messages = work.draft.answers["look"], work.draft.answers["messages"]
    assert isinstance(look, steps.Look) and isinstance(messages, steps.Messages)
    uploads: list[tuple[str, bytes]] = []
    if look.logo is not None:
        uploads.append((images.logo_storage_key(look.logo.data), look.logo.data))
    if messages.email_header is not None:
        uploads.append((images.email_header_key(messages.email_header.data), messages.email_header.data))
    for key, data in uploads:
        image_key = tenant_key(work.slug, key)
        work.undo.append(("storage", lambda image_key=image_key: storage.delete(image_key)))  # type: ignore[misc]
        storage.put(work.slug, key, data)


def _provision_admin(work: Provisioning) -> None:
    db = work.rt.db
    staff = work.draft.answers["staff"]
    assert isinstance(staff, steps.Staff)

    def undo() -> None:
        with db.platform_session() as session:
            user_id = session.scalar(select(User.id).where(User.username == staff.username))
            if user_id is not None:
                session.execute(delete(PasswordReset).where(PasswordReset.user_id == user_id))
                session.execute(delete(User).where(User.id == user_id))
            session.commit()

    work.undo.append(("admin", undo))
    # The admin chooses a password through the invitation; this random one is never shown to anyone.
    user = accounts.create_user(db, staff.username, secrets.token_urlsafe(32), "tenant_admin", tenant_slug=work.slug,
                                email=staff.email, full_name=staff.full_name)
    work.user_id = user.id


def _send_invitation(work: Provisioning) -> None:
    rt = work.rt
    staff = work.draft.answers["staff"]
    assert isinstance(staff, steps.Staff) and work.user_id is not None
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with rt.db.platform_session() as session:
        session.add(PasswordReset(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=work.user_id,
                                  created_at=now, expires_at=now + INVITATION_LIFETIME))
        session.commit()
    utility = work.config.branding.display_name or work.draft.answers["company"].legal_name  # type: ignore[attr-defined]
    link = f"{rt.settings.public_base_url.rstrip('/')}/office/password-reset/{token}"
    try:
        subject = gettext(INVITATION_LANGUAGE, INVITATION_SUBJECT).format(utility=utility)
        body = gettext(INVITATION_LANGUAGE, INVITATION_TEXT).format(utility=utility, username=staff.username, link=link)
        send_mail(rt.settings.smtp_url, sender=rt.settings.mail_from, to=[staff.email], subject=subject, text=body)
    except (ConfigurationError, smtplib.SMTPException, OSError) as exc:
        raise ActivationError("invitation", failure_reason("invitation")) from exc


def _mark_activated(work: Provisioning, actor: str) -> None:
    with work.rt.db.platform_session() as session:
        row = session.get(TenantDraft, work.draft.id, with_for_update=True)
        assert row is not None
        row.updated_at = clock.now()
        session.add(PlatformAuditEntry(at=row.updated_at, actor=actor, action="tenant.activated", target=work.slug,
                                       detail={"draft": work.draft.id}))
        session.commit()


PROVISIONING: list[tuple[str, Callable[[Provisioning], None]]] = [
    ("tenant", _provision_tenant),
    ("sftp", _provision_sftp),
    ("storage", _provision_storage),
    ("admin", _provision_admin),
    ("invitation", _send_invitation),
]
"""Provisioning steps in order; tests wrap one to inject a failure."""
