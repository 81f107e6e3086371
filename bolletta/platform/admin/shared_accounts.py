"""Console pages of the platform's shared channel accounts: list, add, edit, delete, usage.

Only platform admins reach them. The settings form is the one a tenant's plugin settings use
(:mod:`bolletta.platform.admin.plugins`): a secret field is shown empty with "set" beside it and
an empty submission keeps the stored secret. Every change goes to the platform audit log with
secrets masked. An account a tenant still chooses cannot be deleted.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from bolletta.channels.errors import ChannelConfigError
from bolletta.platform import audit
from bolletta.platform.admin.access import admin_of, admin_page, require_platform_admin
from bolletta.platform.admin.plugins import FormData, read_form
from bolletta.platform.dispatch import secrets, shared_accounts
from bolletta.platform.dispatch.channels import installed_channels
from bolletta.platform.dispatch.settings_form import form_fields
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.web.context import rt
from bolletta.tenants.onboarding.plugin_labels import CHOICE_LABELS, SETTING_LABELS

logger = logging.getLogger(__name__)


def _audit(staff: Staff, action: str, name: str, detail: dict[str, Any]) -> None:
    with rt().db.platform_session() as session:
        audit.record_platform(session, actor=staff.actor, user_id=staff.user_id, action=action,
                              target=f"shared_account:{name}", detail=detail, ip=staff.ip)
        session.commit()


def _list_context() -> dict[str, Any]:
    runtime = rt()
    accounts = shared_accounts.all_accounts(runtime)
    return {"accounts": [(account, shared_accounts.tenants_using(runtime, account.name)) for account in accounts],
            "plugins": sorted(installed_channels().plugins)}


@get("/admin/shared-accounts", name="admin:shared-accounts", guards=[require_platform_admin])
async def accounts_page(request: Request[Any, Any, Any]) -> Response[str]:
    """List the shared accounts with the tenants using each, and the form to add one."""
    context = await anyio.to_thread.run_sync(_list_context)
    return admin_page(request, "admin/shared_accounts.html", error=None, **context)


def _create(staff: Staff, name: str, plugin_id: str) -> None:
    runtime = rt()
    if plugin_id not in installed_channels().plugins:
        raise ConfigurationError(f"{plugin_id!r} is not an installed channel plugin; "
                                 f"choose one of {', '.join(sorted(installed_channels().plugins))}.")
    if shared_accounts.get_account(runtime, name) is not None:
        raise ConfigurationError(f"A shared account named {name!r} exists already; edit it instead.")
    shared_accounts.save_account(runtime, name, plugin_id, {}, ())
    _audit(staff, "shared_account.create", name, {"plugin": plugin_id})


@post("/admin/shared-accounts", name="admin:shared-account-create", guards=[require_platform_admin])
async def create_account(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
    """Add a shared account with a name and a plugin; its settings are filled in on its own page."""
    name, plugin_id = (data.get("name") or "").strip(), (data.get("plugin") or "").strip()
    try:
        await anyio.to_thread.run_sync(_create, admin_of(request), name, plugin_id)
    except ConfigurationError as exc:
        logger.warning("admin: shared account %r not added: %s", name, exc)
        context = await anyio.to_thread.run_sync(_list_context)
        return admin_page(request, "admin/shared_accounts.html", status_code=400, error=str(exc), **context)
    return Redirect(f"/admin/shared-accounts/{name}", status_code=303)


def _account_context(name: str) -> dict[str, Any]:
    runtime = rt()
    account = shared_accounts.get_account(runtime, name)
    if account is None:
        raise NotFoundException(f"Shared account {name!r} not found.")
    fields = form_fields(account.plugin)
    secret_names = {item.name for item in fields if item.secret}
    stored = account.settings
    return {"account": account, "fields": fields, "users": shared_accounts.tenants_using(runtime, name),
            "usage": shared_accounts.usage(runtime, name),
            "values": {key: value for key, value in stored.items() if key not in secret_names},
            "secrets_set": {key for key in secret_names if stored.get(key)}}


async def _account_page(request: Request[Any, Any, Any], name: str, status_code: int = 200,
                        **extra: Any) -> Response[str]:
    context = await anyio.to_thread.run_sync(_account_context, name)
    outcome: dict[str, Any] = {"errors": [], "error": None, "saved": request.query_params.get("saved") == "1"} | extra
    if "values" in outcome:
        context["values"] = {**context["values"], **outcome.pop("values")}
    return admin_page(request, "admin/shared_account.html", status_code=status_code, labels=SETTING_LABELS,
                      choice_labels=CHOICE_LABELS, **context, **outcome)


@get("/admin/shared-accounts/{name:str}", name="admin:shared-account", guards=[require_platform_admin])
async def account_page(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[str]:
    """Show one shared account's settings form and its usage per tenant and month."""
    return await _account_page(request, name)


def _save(staff: Staff, name: str, values: dict[str, Any]) -> None:
    runtime = rt()
    account = shared_accounts.get_account(runtime, name)
    if account is None:
        raise NotFoundException(f"Shared account {name!r} not found.")
    plugin = installed_channels().plugins[account.plugin]
    candidate = secrets.reveal(runtime, {**account.settings, **values}, plugin.secret_fields)
    try:
        plugin.settings_from_dict(candidate)
    except ChannelConfigError as exc:
        raise ConfigurationError(str(exc)) from exc
    shared_accounts.save_account(runtime, name, account.plugin, values, plugin.secret_fields)
    _audit(staff, "shared_account.settings", name,
           {"plugin": account.plugin, "values": secrets.masked(values, plugin.secret_fields)})


@post("/admin/shared-accounts/{name:str}", name="admin:shared-account-save", guards=[require_platform_admin])
async def save_account(request: Request[Any, Any, Any], name: FromPath[str], data: FormData) -> Response[Any]:
    """Validate and store the account's settings; on an error show the form again, secrets still hidden."""
    context = await anyio.to_thread.run_sync(_account_context, name)
    values, errors = read_form(context["fields"], data)
    error = None
    if not errors:
        try:
            await anyio.to_thread.run_sync(_save, admin_of(request), name, values)
        except ConfigurationError as exc:
            error = str(exc)
            logger.warning("admin: settings of shared account %r rejected: %s", name, error)
        else:
            return Redirect(f"/admin/shared-accounts/{name}?saved=1", status_code=303)
    secret_names = {item.name for item in context["fields"] if item.secret}
    submitted = {key: value for key, value in values.items() if key not in secret_names}
    return await _account_page(request, name, status_code=400, errors=errors, error=error, saved=False,
                               values=submitted)


def _delete(staff: Staff, name: str) -> None:
    shared_accounts.delete_account(rt(), name)
    _audit(staff, "shared_account.delete", name, {})


@post("/admin/shared-accounts/{name:str}/delete", name="admin:shared-account-delete",
      guards=[require_platform_admin])
async def delete_account(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
    """Delete the account unless a tenant still chooses it; its usage history stays."""
    try:
        await anyio.to_thread.run_sync(_delete, admin_of(request), name)
    except shared_accounts.AccountInUse as exc:
        logger.warning("admin: shared account %r not deleted: %s", name, exc)
        return await _account_page(request, name, status_code=409, error=str(exc))
    return Redirect("/admin/shared-accounts", status_code=303)


def shared_accounts_router() -> Router:
    """Build the shared account routes of the console."""
    return Router(path="/", route_handlers=[accounts_page, create_account, account_page, save_account,
                                            delete_account])
