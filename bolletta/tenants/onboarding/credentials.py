"""Plugin settings typed in the wizard: kept encrypted in the draft, validated, and tried on the provider.

Channel settings are concealed as the tenant's ``channel_settings`` keep them, and gateway settings
sealed as its ``gateway_settings`` keep them, so activation copies them unchanged. A secret left
empty keeps the one stored before, and no page ever shows a stored secret again. Where the plugin
implements ``check_credentials``, saving calls it: a rejection is a problem next to the field, an
unreachable provider only a note, so a provider's outage does not block onboarding. The platform
admin's gateway settings page runs the same check through :func:`try_credentials`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bolletta.channels.base import ChannelContext
from bolletta.channels.errors import ChannelConfigError, ChannelError
from bolletta.gateways.base import GatewayContext
from bolletta.gateways.errors import GatewayConfigError, GatewayError
from bolletta.platform.dispatch import secrets
from bolletta.platform.dispatch.channels import installed_channels, smtp_defaults
from bolletta.platform.dispatch.settings_form import FormField, struct_form_fields
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.payments.credentials import open_settings, seal_settings
from bolletta.platform.payments.gateways import gateway_class
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import TenantConfig

logger = logging.getLogger(__name__)

FIELD_IN_ERROR = re.compile(r"at `\$\.(\w+)|field `(\w+)`")
"""Pattern of the field name in a msgspec validation message."""


@dataclass
class SettingsOutcome:
    """The settings of one plugin as the draft keeps them, with the problems and notes shown beside the fields."""

    stored: dict[str, Any]
    problems: dict[str, Text] = field(default_factory=dict)
    """Input name (``channel_settings.<plugin>.<field>``) to the problem; the step stays incomplete."""
    notes: dict[str, Text] = field(default_factory=dict)
    """Input name to a remark that blocks nothing, such as "the provider accepted the credentials"."""


def channel_fields(plugin_id: str) -> list[FormField]:
    """Return the settings inputs of channel plugin ``plugin_id``; none when it is not installed."""
    plugin = installed_channels().plugins.get(plugin_id)
    return [] if plugin is None else struct_form_fields(plugin.Settings, plugin.secret_fields)


def gateway_fields(plugin_id: str) -> list[FormField]:
    """Return the settings inputs of gateway plugin ``plugin_id``; none when it is not installed."""
    try:
        plugin = gateway_class(plugin_id)
    except ConfigurationError:
        return []
    return struct_form_fields(plugin.Settings, plugin.secret_fields)


def channel_settings(rt: Runtime, draft_id: int, plugin_id: str, values: Mapping[str, Any],
                     stored: Mapping[str, Any], *, check: bool) -> SettingsOutcome:
    """Conceal and validate the typed settings of channel ``plugin_id``; with ``check``, try them too."""
    plugin = installed_channels().plugins[plugin_id]
    prefix = f"channel_settings.{plugin_id}"
    concealed = secrets.conceal(rt, dict(values), plugin.secret_fields, dict(stored))
    outcome = SettingsOutcome(stored=concealed)
    raw = smtp_defaults(rt, TenantConfig()) | concealed if plugin_id == "smtp" else concealed
    try:
        settings = plugin.settings_from_dict(secrets.reveal(rt, raw, plugin.secret_fields))
        channel = plugin(settings, ChannelContext(tenant_slug=f"draft-{draft_id}"))
    except (ChannelConfigError, ConfigurationError) as exc:
        key = _field_key(prefix, str(exc), plugin.Settings.__struct_fields__)
        outcome.problems[key] = _invalid_setting(channel_fields(plugin_id), key, values, exc)
        return outcome
    if check:
        try_credentials(outcome, prefix, first_secret(plugin.Settings.__struct_fields__, plugin.secret_fields),
                        channel.check_credentials, plugin_id)
    return outcome


def gateway_settings(rt: Runtime, draft_id: int, plugin_id: str, values: Mapping[str, Any],
                     stored: Mapping[str, Any], *, check: bool) -> SettingsOutcome:
    """Seal and validate the typed settings of gateway ``plugin_id``; with ``check``, try them too."""
    plugin = gateway_class(plugin_id)
    prefix = f"gateway_settings.{plugin_id}"
    fields = plugin.Settings.__struct_fields__
    opened = open_settings(rt, plugin, dict(stored)) if stored else {}
    kept = {name: opened[name] for name in plugin.secret_fields if not values.get(name) and opened.get(name)}
    clear = {**{name: value for name, value in values.items() if name in fields}, **kept}
    outcome = SettingsOutcome(stored=dict(stored))
    try:
        outcome.stored = seal_settings(rt, plugin, clear)
        slug = f"draft-{draft_id}"
        context = GatewayContext(tenant_slug=slug, public_base_url=rt.settings.public_base_url,
                                 signing_key=rt.gateway_key(slug, plugin_id))
        gateway = plugin(plugin.settings_from_dict(clear), context)
    except (GatewayConfigError, ConfigurationError) as exc:
        key = _field_key(prefix, str(exc), fields)
        outcome.problems[key] = _invalid_setting(gateway_fields(plugin_id), key, values, exc)
        return outcome
    if check:
        try_credentials(outcome, prefix, first_secret(fields, plugin.secret_fields), gateway.check_credentials,
                        plugin_id)
    return outcome


def try_credentials(outcome: SettingsOutcome, prefix: str, field_name: str, check: Callable[[], str | None],
                    plugin_id: str) -> None:
    """Run a plugin's credential check and note its result next to ``field_name``.

    The key is ``<prefix>.<field_name>``, or the bare field name when ``prefix`` is empty (a form
    with one plugin's inputs). A plugin that cannot check leaves the outcome unchanged.
    """
    key = f"{prefix}.{field_name}" if prefix else field_name
    try:
        reason = check()
    except NotImplementedError:
        return
    except (ChannelError, GatewayError, OSError) as exc:
        logger.warning("credential check of %s could not reach the provider: %s", plugin_id,
                       type(exc).__name__)
        outcome.notes[key] = T_("The provider could not be reached to check the credentials ({error}); they are "
                                "saved unchecked.", error=str(exc))
        return
    if reason:
        outcome.problems[key] = T_("The provider rejected the credentials: {error}", error=reason)
    else:
        outcome.notes[key] = T_("The provider accepted the credentials.")


def first_secret(fields: tuple[str, ...], secret_fields: frozenset[str]) -> str:
    """Return the field a credential check's result is shown next to: the first secret one, else the first."""
    return next((name for name in fields if name in secret_fields), fields[0] if fields else "")


def typed_setting_problem(fields: list[FormField], name: str, typed: str) -> Text | None:
    """Return a problem naming what setting ``name`` accepts when ``typed`` is of the wrong kind, else ``None``."""
    item = next((field for field in fields if field.name == name), None)
    shown = typed.strip()[:40]
    if item is None or not shown:
        return None
    if item.type == "choice" and shown not in item.choices:
        return T_("{value} is not a choice; use {choices}.", value=shown, choices=", ".join(item.choices))
    if item.type == "int" and not _is_number(shown, int):
        return T_("{value} is not a whole number; enter digits only, such as 587.", value=shown)
    if item.type == "float" and not _is_number(shown, float):
        return T_("{value} is not a number; enter one such as 12.5.", value=shown)
    return None


def _invalid_setting(fields: list[FormField], key: str, values: Mapping[str, Any], exc: Exception) -> Text:
    name = key.rsplit(".", 1)[-1]
    problem = typed_setting_problem(fields, name, str(values.get(name, "")))
    return problem or T_("The settings are not valid: {error}", error=str(exc))


def _is_number(text: str, kind: type[int] | type[float]) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True


def _field_key(prefix: str, message: str, fields: tuple[str, ...]) -> str:
    """Return the input a validation message is about: the field it names, else the first one."""
    found = FIELD_IN_ERROR.search(message)
    name = next((group for group in found.groups() if group), "") if found else ""
    return f"{prefix}.{name if name in fields else (fields[0] if fields else '')}"
