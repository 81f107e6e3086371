"""Platform-level models (schema ``platform`` or the ``platform.db`` file)."""

from bolletta.platform.db.models.platform.api_token import ApiToken
from bolletta.platform.db.models.platform.audit import PlatformAuditEntry
from bolletta.platform.db.models.platform.login_failure import LoginFailure, LoginSourceFailure
from bolletta.platform.db.models.platform.password_reset import PasswordReset
from bolletta.platform.db.models.platform.schedule_slot import ScheduleSlot
from bolletta.platform.db.models.platform.sftp_account import SftpAccount
from bolletta.platform.db.models.platform.sftp_account_key import SftpAccountKey
from bolletta.platform.db.models.platform.shared_account import SharedAccount, SharedAccountUsage
from bolletta.platform.db.models.platform.tenant import Tenant
from bolletta.platform.db.models.platform.tenant_draft import TenantDraft
from bolletta.platform.db.models.platform.user import User

__all__ = [
    "ApiToken",
    "LoginFailure",
    "LoginSourceFailure",
    "PasswordReset",
    "PlatformAuditEntry",
    "ScheduleSlot",
    "SftpAccount",
    "SftpAccountKey",
    "SharedAccount",
    "SharedAccountUsage",
    "Tenant",
    "TenantDraft",
    "User",
]
