"""The plugin catalogue, turning plugins on and off per tenant, and a tenant's plugin settings forms.

The catalogue lists every installed channel and gateway plugin, and every plugin that failed to
load with its reason. Enabling, disabling and saving settings call the functions of
``dispatch/settings_form.py`` and ``payments/gateways.py``, which audit on the tenant. The console
adds an entry to the platform audit log as well. A secret field is never sent back to the browser:
the form shows it empty with "set" beside it, and submitting it empty keeps the stored secret.
Saving a gateway's settings first tries its credentials on the provider, as the onboarding wizard
does: a rejection keeps the stored settings and shows the reason next to the field, an unreachable
provider saves them with a note.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Body, FromPath
from litestar.response import Redirect

from bolletta.gateways.errors import GatewayConfigError
from bolletta.platform import audit
from bolletta.platform.admin.access import admin_of, admin_page, require_platform_admin
from bolletta.platform.dispatch import secrets
from bolletta.platform.dispatch.channels import channel_catalogue, installed_channels
from bolletta.platform.dispatch.settings_form import (
    FormField,
    enable_channel,
    form_fields,
    save_channel_settings,
    struct_form_fields,
)
from bolletta.platform.errors import ConfigurationError, NotFound
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.payments.gateways import (
    enable_gateway,
    gateway_catalogue,
    gateway_class,
    submitted_gateway,
    update_gateway_settings,
)
from bolletta.platform.web.context import rt
from bolletta.tenants.onboarding.credentials import SettingsOutcome, first_secret, try_credentials
from bolletta.tenants.onboarding.plugin_labels import CHOICE_LABELS, SETTING_LABELS
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
KINDS = ("channel", "gateway")


def catalogue() -> list[dict[str, Any]]:
    """Return the entries of every installed channel and gateway plugin, loaded or not, with their ``kind``."""
    return ([entry | {"kind": "channel"} for entry in channel_catalogue()]
            + [entry | {"kind": "gateway"} for entry in gateway_catalogue()])


@get("/admin/plugins", name="admin:plugins", guards=[require_platform_admin])
async def plugins_page(request: Request[Any, Any, Any]) -> Response[str]:
    """List the plugin catalogue ("marketplace") with the plugins that failed to load."""
    entries = await anyio.to_thread.run_sync(catalogue)
    return admin_page(request, "admin/plugins.html", loaded=[e for e in entries if e["loaded"]],
                      broken=[e for e in entries if not e["loaded"]])


def _switch(staff: Staff, slug: str, kind: str, plugin_id: str, enabled: bool) -> None:
    runtime = rt()
    if kind == "channel":
        enable_channel(runtime, slug, plugin_id, staff, enabled=enabled)
    else:
        enable_gateway(runtime, slug, plugin_id, staff, enabled=enabled)
    with runtime.db.platform_session() as session:
        audit.record_platform(session, actor=staff.actor, user_id=staff.user_id,
                              action=f"{kind}.{'enable' if enabled else 'disable'}", target=slug,
                              detail={"plugin": plugin_id}, ip=staff.ip)
        session.commit()
    logger.info("admin: %s plugin %s %s for tenant %s by %s", kind, plugin_id,
                "enabled" if enabled else "disabled", slug, staff.username)


@post("/admin/tenants/{slug:str}/plugins/{kind:str}/{plugin_id:str}", name="admin:plugin-switch",
      guards=[require_platform_admin])
async def switch_plugin(request: Request[Any, Any, Any], slug: FromPath[str], kind: FromPath[str],
                        plugin_id: FromPath[str], data: FormData) -> Response[Any]:
    """Turn a channel or gateway plugin on (``enabled=1``) or off (``enabled=0``) for one tenant."""
    enabled = data.get("enabled")
    if kind not in KINDS or enabled not in ("0", "1"):
        raise ValidationException("Send kind channel or gateway and enabled 1 or 0.")
    try:
        await anyio.to_thread.run_sync(_switch, admin_of(request), slug, kind, plugin_id, enabled == "1")
    except (NotFound, ConfigurationError) as exc:
        raise NotFoundException(str(exc)) from exc
    return Redirect(f"/admin/tenants/{slug}", status_code=303)


def read_form(fields: list[FormField], data: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Convert a submitted form to settings values; return them and the names of fields not readable.

    An empty field is left out, so the stored secret or the plugin's default applies; an unticked
    checkbox is ``False``.
    """
    values: dict[str, Any] = {}
    errors: list[str] = []
    for item in fields:
        raw = (data.get(item.name) or "").strip()
        if item.type == "bool":
            values[item.name] = raw not in ("", "0")
            continue
        if not raw:
            continue
        try:
            if item.type == "int":
                values[item.name] = int(raw)
            elif item.type == "float":
                values[item.name] = float(raw)
            elif item.type == "list":
                values[item.name] = [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]
            elif item.type == "choice" and raw not in item.choices:
                errors.append(item.name)
            else:
                values[item.name] = raw
        except ValueError:
            errors.append(item.name)
    return values, errors


def _settings_context(slug: str, kind: str, plugin_id: str) -> dict[str, Any]:
    """Return the form's fields and the stored values to show, every secret field emptied."""
    try:
        tenant = get_tenant(rt().db, slug)
        config = tenant_config(tenant)
        if kind == "channel":
            fields = form_fields(plugin_id)
            stored = config.channel_settings.get(plugin_id, {})
            enabled = plugin_id in config.enabled_channels
        else:
            plugin = gateway_class(plugin_id)
            fields = struct_form_fields(plugin.Settings, plugin.secret_fields)
            stored = config.gateway_settings.get(plugin_id, {})
            enabled = plugin_id in config.enabled_gateways
    except (NotFound, ConfigurationError) as exc:
        raise NotFoundException(str(exc)) from exc
    secret_names = {item.name for item in fields if item.secret}
    return {"tenant": tenant, "kind": kind, "plugin_id": plugin_id, "fields": fields, "enabled": enabled,
            "values": {name: value for name, value in stored.items() if name not in secret_names},
            "secrets_set": {name for name in secret_names if stored.get(name)}}


async def _settings_page(request: Request[Any, Any, Any], slug: str, kind: str, plugin_id: str) -> Response[str]:
    context = await anyio.to_thread.run_sync(_settings_context, slug, kind, plugin_id)
    return admin_page(request, "admin/plugin_settings.html", errors=[], error=None, problems={}, notes={},
                      saved=request.query_params.get("saved") == "1", labels=SETTING_LABELS,
                      choice_labels=CHOICE_LABELS, **context)


def _check_gateway(slug: str, plugin_id: str, values: Mapping[str, Any]) -> SettingsOutcome:
    """Try the credentials a gateway form submits on the provider and return the problems and notes by field.

    The check runs on every save, not only when a credential changed: which settings the check
    depends on differs by plugin (endpoint, test mode, CA bundle, shop login), and saving again is
    how an admin re-verifies stored credentials. It moves no money. A plugin that cannot check
    (the sandbox) gives an empty outcome.

    Raises:
        ConfigurationError: the plugin is not installed, or a stored secret does not decrypt.
        GatewayConfigError: the settings do not validate.
    """
    plugin = gateway_class(plugin_id)
    gateway = submitted_gateway(rt(), slug, plugin_id, values)
    outcome = SettingsOutcome(stored={})
    try_credentials(outcome, "", first_secret(plugin.Settings.__struct_fields__, plugin.secret_fields),
                    gateway.check_credentials, plugin_id)
    return outcome


def _save(staff: Staff, slug: str, kind: str, plugin_id: str, values: dict[str, Any]) -> SettingsOutcome:
    """Store the settings unless the provider rejects the gateway credentials; return the check's outcome."""
    runtime = rt()
    outcome = SettingsOutcome(stored={})
    if kind == "channel":
        save_channel_settings(runtime, slug, plugin_id, values, staff)
        secret_fields = installed_channels().plugins[plugin_id].secret_fields
    else:
        outcome = _check_gateway(slug, plugin_id, values)
        if outcome.problems:
            logger.warning("admin: provider rejected the %s credentials of tenant %s, settings not saved",
                           plugin_id, slug)
            return outcome
        update_gateway_settings(runtime, slug, plugin_id, values, staff)
        secret_fields = gateway_class(plugin_id).secret_fields
    with runtime.db.platform_session() as session:
        audit.record_platform(session, actor=staff.actor, user_id=staff.user_id, action=f"{kind}.settings",
                              target=slug, detail={"plugin": plugin_id,
                                                   "values": secrets.masked(values, secret_fields)}, ip=staff.ip)
        session.commit()
    return outcome


async def _save_settings(request: Request[Any, Any, Any], slug: str, kind: str, plugin_id: str,
                         data: dict[str, str]) -> Response[Any]:
    """Validate and store the form; on an error show it again with the reason, secrets still hidden.

    Saved settings redirect to the form, except when the credential check left a note (accepted, or
    provider unreachable): the saved form is then shown at once with the note beside its field.
    """
    context = await anyio.to_thread.run_sync(_settings_context, slug, kind, plugin_id)
    values, errors = read_form(context["fields"], data)
    error = None
    outcome = SettingsOutcome(stored={})
    if not errors:
        try:
            outcome = await anyio.to_thread.run_sync(_save, admin_of(request), slug, kind, plugin_id, values)
        except (ConfigurationError, GatewayConfigError) as exc:
            error = str(exc)
            logger.warning("admin: %s settings of %s for tenant %s rejected: %s", kind, plugin_id, slug, error)
        else:
            if not outcome.problems and not outcome.notes:
                return Redirect(f"/admin/tenants/{slug}/{kind}s/{plugin_id}?saved=1", status_code=303)
            if not outcome.problems:
                saved = await anyio.to_thread.run_sync(_settings_context, slug, kind, plugin_id)
                return admin_page(request, "admin/plugin_settings.html", errors=[], error=None, problems={},
                                  notes=outcome.notes, saved=True, labels=SETTING_LABELS,
                                  choice_labels=CHOICE_LABELS, **saved)
    secret_names = {item.name for item in context["fields"] if item.secret}
    submitted = {name: value for name, value in values.items() if name not in secret_names}
    return admin_page(request, "admin/plugin_settings.html", status_code=400, errors=errors, error=error,
                      problems=outcome.problems, notes=outcome.notes, saved=False, labels=SETTING_LABELS,
                      choice_labels=CHOICE_LABELS, **{**context, "values": {**context["values"], **submitted}})


@get("/admin/tenants/{slug:str}/channels/{plugin_id:str}", name="admin:channel-settings",
     guards=[require_platform_admin])
async def channel_settings_page(request: Request[Any, Any, Any], slug: FromPath[str],
                                plugin_id: FromPath[str]) -> Response[str]:
    """Render the tenant's settings form of one channel plugin, generated from the plugin's struct."""
    return await _settings_page(request, slug, "channel", plugin_id)


@post("/admin/tenants/{slug:str}/channels/{plugin_id:str}", name="admin:channel-settings-save",
      guards=[require_platform_admin])
async def save_channel_settings_form(request: Request[Any, Any, Any], slug: FromPath[str], plugin_id: FromPath[str],
                                     data: FormData) -> Response[Any]:
    """Store the tenant's settings of one channel plugin."""
    return await _save_settings(request, slug, "channel", plugin_id, data)


@get("/admin/tenants/{slug:str}/gateways/{plugin_id:str}", name="admin:gateway-settings",
     guards=[require_platform_admin])
async def gateway_settings_page(request: Request[Any, Any, Any], slug: FromPath[str],
                                plugin_id: FromPath[str]) -> Response[str]:
    """Render the tenant's settings form of one payment gateway, generated from the plugin's struct."""
    return await _settings_page(request, slug, "gateway", plugin_id)


@post("/admin/tenants/{slug:str}/gateways/{plugin_id:str}", name="admin:gateway-settings-save",
      guards=[require_platform_admin])
async def save_gateway_settings_form(request: Request[Any, Any, Any], slug: FromPath[str], plugin_id: FromPath[str],
                                     data: FormData) -> Response[Any]:
    """Store the tenant's settings of one payment gateway."""
    return await _save_settings(request, slug, "gateway", plugin_id, data)


def plugins_router() -> Router:
    """Build the catalogue, plugin switch and channel settings routes."""
    return Router(path="/", route_handlers=[plugins_page, switch_plugin, channel_settings_page,
                                            save_channel_settings_form, gateway_settings_page,
                                            save_gateway_settings_form])
