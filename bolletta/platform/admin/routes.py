"""Every route of the operator console, for the application to mount."""

from __future__ import annotations

from litestar import Router

from bolletta.platform.admin.audit_log import audit_router
from bolletta.platform.admin.jobs import jobs_router
from bolletta.platform.admin.login import login_router
from bolletta.platform.admin.onboarding import onboarding_router
from bolletta.platform.admin.plugins import plugins_router
from bolletta.platform.admin.shared_accounts import shared_accounts_router
from bolletta.platform.admin.system import system_router
from bolletta.platform.admin.tenant_settings import tenant_settings_router
from bolletta.platform.admin.tenants import tenants_router
from bolletta.platform.admin.users import users_router


def console_routers() -> list[Router]:
    """Build the console's routers, all under ``/admin``."""
    return [login_router(), tenants_router(), jobs_router(), plugins_router(), shared_accounts_router(),
            audit_router(), users_router(), system_router(), onboarding_router(), tenant_settings_router()]
