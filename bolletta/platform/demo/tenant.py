"""The demo tenant, "ACME Energia", with its staff login and SFTP account."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from bolletta.platform.db.models.platform import SftpAccount, Tenant, User
from bolletta.platform.demo.flow import SELLER_VAT_NUMBER
from bolletta.platform.passwords import hash_password
from bolletta.platform.runtime import Runtime
from bolletta.tenants import accounts
from bolletta.tenants.config import Branding, PortalSettings, QuietHours, TenantConfig, TestRecipient
from bolletta.tenants.registry import create_tenant

DEMO_SLUG = "acme"
DEMO_NAME = "ACME Energia S.p.A."
OPERATOR_USERNAME = "acme.operatore"
SFTP_USERNAME = "acme-sftp"


def demo_config() -> TenantConfig:
    """ACME's settings: its own colours, test recipients, SMS and WhatsApp kept in the outbox."""
    return TenantConfig(
        vat_number=SELLER_VAT_NUMBER,
        branding=Branding(
            display_name="ACME Energia", primary_color="#1d5c3a", accent_color="#f5b700",
            support_phone="800 000 000", support_email="clienti@acme-energia.example",
            website="https://www.acme-energia.example",
        ),
        notification_emails=["operazioni@acme-energia.example"],
        test_recipients=[
            TestRecipient(channel="email", address="collaudo@acme-energia.example"),
            TestRecipient(channel="sms", address="+393330000001"),
        ],
        channel_plugins={"email": "smtp", "sms": "outbox", "whatsapp": "outbox"},
        enabled_gateways=["sandbox"],
        email_sender="ACME Energia <bolletta@acme-energia.example>",
        sms_sender="ACMEnergia",
        may_start_dispatch=True,
        portal=PortalSettings(languages=["it", "en", "de", "fr", "es", "ro", "ar"],
                              privacy_url="https://www.acme-energia.example/privacy"),
        # Messages must go out at any hour of a demo or test run; quiet-hour tests set their own.
        quiet_hours=QuietHours(kinds=[]),
    )


def _reset_password(rt: Runtime, model: type[User] | type[SftpAccount], username: str, password: str) -> bool:
    with rt.db.platform_session() as session:
        row = session.scalar(select(model).where(model.username == username))
        if row is None:
            return False
        row.password_hash = hash_password(password)  # type: ignore[attr-defined]
        session.commit()
        return True


def provision_demo_tenant(rt: Runtime) -> tuple[str, str]:
    """Create (or refresh) the demo tenant; return new passwords of the operator and SFTP account.

    Passwords are generated on every run and printed once by the demo; they are never stored in
    clear.
    """
    with rt.db.platform_session() as session:
        exists = session.scalar(select(Tenant.id).where(Tenant.slug == DEMO_SLUG)) is not None
    if not exists:
        create_tenant(rt.db, DEMO_SLUG, DEMO_NAME, demo_config())
    operator_password = secrets.token_urlsafe(12)
    sftp_password = secrets.token_urlsafe(12)
    if not _reset_password(rt, User, OPERATOR_USERNAME, operator_password):
        accounts.create_user(rt.db, OPERATOR_USERNAME, operator_password, "tenant_operator",
                             tenant_slug=DEMO_SLUG, email="operatore@acme-energia.example",
                             full_name="Operatore ACME")
    if not _reset_password(rt, SftpAccount, SFTP_USERNAME, sftp_password):
        accounts.create_sftp_account(rt.db, DEMO_SLUG, SFTP_USERNAME, sftp_password)
    return operator_password, sftp_password
