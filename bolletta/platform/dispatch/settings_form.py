"""A tenant's channel settings form, generated from the plugin's ``Settings`` struct.

:func:`form_fields` describes each field (name, type, default, whether it is a secret, its
documentation) so a page can render it; :func:`save_channel_settings` validates a submission
with the plugin's own struct, keeps a secret left empty, encrypts secrets, and stores the result.
Enabling a plugin for a tenant (:func:`enable_channel`) is a platform admin's action. Saving and
enabling write an audit entry (secrets redacted); the admin pages call these functions.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from bolletta.channels.base import Channel
from bolletta.channels.errors import ChannelConfigError
from bolletta.platform import audit
from bolletta.platform.dispatch import secrets
from bolletta.platform.dispatch.channels import installed_channels
from bolletta.platform.errors import ConfigurationError, NotFound, PermissionDenied
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import get_tenant, save_config, tenant_config


@dataclass(frozen=True)
class FormField:
    """One input of a channel's settings form."""

    name: str
    type: str
    """``str``, ``int``, ``float``, ``bool``, ``list`` or ``choice``."""
    required: bool
    default: Any
    secret: bool
    choices: tuple[str, ...] = ()
    doc: str = ""


def _plugin(plugin_id: str) -> type[Channel]:
    plugin = installed_channels().plugins.get(plugin_id)
    if plugin is None:
        raise NotFound(f"Channel plugin {plugin_id!r} is not installed or failed to load.")
    return plugin


def _field_docs(struct: type[msgspec.Struct]) -> dict[str, str]:
    """Field docstrings (the string literal under each field) read from the struct's source."""
    try:
        source = inspect.getsource(struct)
    except (OSError, TypeError):
        return {}
    docs: dict[str, str] = {}
    lines = [line.strip() for line in source.splitlines()]
    for index, line in enumerate(lines[:-1]):
        name = line.split(":", 1)[0]
        following = lines[index + 1]
        if name in struct.__struct_fields__ and following.startswith('"""'):
            docs[name] = following.strip('"').strip()
    return docs


def form_fields(plugin_id: str) -> list[FormField]:
    """The inputs of plugin ``plugin_id``'s settings form, in the struct's field order."""
    plugin = _plugin(plugin_id)
    return struct_form_fields(plugin.Settings, plugin.secret_fields)


def struct_form_fields(struct: type[msgspec.Struct], secret_fields: Iterable[str]) -> list[FormField]:
    """Describe the inputs of a settings form for any plugin's ``Settings`` struct (channels and gateways)."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    docs = _field_docs(struct)
    secret = frozenset(secret_fields)
    fields = []
    for field in info.fields:
        kind, choices = _kind(field.type)
        default = None if field.default is msgspec.NODEFAULT else field.default
        fields.append(FormField(name=field.name, type=kind, required=field.required, default=default,
                                secret=field.name in secret, choices=choices, doc=docs.get(field.name, "")))
    return fields


def _kind(type_info: msgspec.inspect.Type) -> tuple[str, tuple[str, ...]]:
    if isinstance(type_info, msgspec.inspect.UnionType):
        usable = [t for t in type_info.types if not isinstance(t, msgspec.inspect.NoneType)]
        return _kind(usable[0]) if usable else ("str", ())
    if isinstance(type_info, msgspec.inspect.LiteralType):
        return "choice", tuple(str(value) for value in type_info.values)
    names = {msgspec.inspect.StrType: "str", msgspec.inspect.IntType: "int", msgspec.inspect.FloatType: "float",
             msgspec.inspect.BoolType: "bool", msgspec.inspect.ListType: "list"}
    return names.get(type(type_info), "str"), ()


def _check(staff: Staff, tenant: str, *, admin_only: bool) -> None:
    if staff.role == "platform_admin":
        return
    if admin_only or staff.role != "tenant_admin" or staff.tenant != tenant:
        raise PermissionDenied("Only a platform admin, or this tenant's admin, can change channel settings.")


def save_channel_settings(rt: Runtime, tenant: str, plugin_id: str, submitted: dict[str, Any],
                          staff: Staff) -> dict[str, Any]:
    """Validate and store a tenant's settings of ``plugin_id``; return them as shown (secrets masked).

    An empty secret keeps the stored one. Audited with secrets redacted.

    Raises:
        NotFound: the plugin is not installed.
        PermissionDenied: the staff member may not change this tenant's channels.
        ConfigurationError: the settings do not validate; the message names the field.
    """
    _check(staff, tenant, admin_only=False)
    plugin = _plugin(plugin_id)
    config = tenant_config(get_tenant(rt.db, tenant))
    stored = dict(config.channel_settings.get(plugin_id, {}))
    values = {name: value for name, value in submitted.items() if name in plugin.Settings.__struct_fields__}
    candidate = secrets.reveal(rt, {**stored, **{k: v for k, v in values.items() if v not in ("", None)}},
                               plugin.secret_fields)
    try:
        plugin.settings_from_dict(candidate)
    except ChannelConfigError as exc:
        raise ConfigurationError(str(exc)) from exc
    concealed = secrets.conceal(rt, values, plugin.secret_fields, stored)
    config.channel_settings = {**config.channel_settings, plugin_id: concealed}
    save_config(rt.db, tenant, config, actor=staff.actor)
    with rt.db.tenant_session(tenant) as session:
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="channel.settings",
                     target=f"channel:{plugin_id}", detail=secrets.masked(values, plugin.secret_fields), ip=staff.ip)
        session.commit()
    return secrets.masked(concealed, plugin.secret_fields)


def enable_channel(rt: Runtime, tenant: str, plugin_id: str, staff: Staff, *, enabled: bool = True) -> None:
    """Turn a channel plugin on or off for a tenant (platform admins only). Audited.

    Raises:
        NotFound: the plugin is not installed.
        PermissionDenied: the staff member is not a platform admin.
    """
    _check(staff, tenant, admin_only=True)
    _plugin(plugin_id)
    config = tenant_config(get_tenant(rt.db, tenant))
    current = [p for p in config.enabled_channels if p != plugin_id]
    config.enabled_channels = [*current, plugin_id] if enabled else current
    save_config(rt.db, tenant, config, actor=staff.actor)
    with rt.db.tenant_session(tenant) as session:
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="channel.enable" if enabled
                     else "channel.disable", target=f"channel:{plugin_id}", ip=staff.ip)
        session.commit()
