"""Loading of plugin classes from entry point groups (``bolletta.channels``, ``bolletta.gateways``).

stevedore finds the entry points and imports their targets; this module then checks each class
against the contract's base class. A plugin that fails to import or breaks the contract becomes one
:class:`PluginLoadError` naming the group and the plugin, and the other plugins still load.

:func:`check_extensions` runs the contract checks on given stevedore extensions, so tests can pass
``ExtensionManager.make_test_instance(...).extensions`` without installing entry points.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from typing import Any, Generic, TypeVar, cast

from stevedore import ExtensionManager
from stevedore.extension import Extension

from bolletta.platform.errors import BollettaError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class PluginLoadError(BollettaError):
    """Raised or recorded when a plugin fails to import or does not honour its contract."""

    def __init__(self, group: str, plugin_id: str, reason: str) -> None:
        super().__init__(f"plugin {plugin_id!r} of group {group!r} was not loaded: {reason}")
        self.group = group
        self.plugin_id = plugin_id
        self.reason = reason


@dataclass(frozen=True)
class PluginSet(Generic[T]):
    """Plugin classes of one entry point group that passed the contract checks."""

    plugins: dict[str, type[T]] = field(default_factory=dict)
    """Plugin classes by entry point name, which is also each class's ``id``."""

    errors: list[PluginLoadError] = field(default_factory=list)
    """One error per plugin that was not loaded, in discovery order."""


def load_plugins(group: str, base: type[T]) -> PluginSet[T]:
    """Load every plugin class of entry point group ``group`` that honours the contract of ``base``.

    The result is cached per group and base class for the life of the process and shared by every
    caller, so treat it as read-only; call :func:`clear_plugin_cache` to discover again.
    """
    # mypy does not treat ``type[T]`` as Hashable, although every class is.
    return cast(PluginSet[T], _load_cached(group, cast(Hashable, base)))


def clear_plugin_cache() -> None:
    """Forget loaded plugin sets and stevedore's entry point lists, so the next load rediscovers."""
    _load_cached.cache_clear()
    ExtensionManager.ENTRY_POINT_CACHE.clear()


@functools.cache
def _load_cached(group: str, base: Any) -> PluginSet[Any]:
    import_errors: list[PluginLoadError] = []

    def record_import_failure(
        manager: ExtensionManager[Any], entry_point: EntryPoint, exc: BaseException
    ) -> None:
        error = PluginLoadError(group, entry_point.name, f"import failed: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        logger.warning("plugin rejected group=%s plugin=%s reason=%s", group, entry_point.name, error.reason)
        import_errors.append(error)

    manager: ExtensionManager[Any] = ExtensionManager(
        namespace=group, invoke_on_load=False, on_load_failure_callback=record_import_failure
    )
    return check_extensions(group, base, manager.extensions, import_errors)


def check_extensions(
    group: str,
    base: type[T],
    extensions: Iterable[Extension[Any]],
    errors: Iterable[PluginLoadError] = (),
) -> PluginSet[T]:
    """Check loaded stevedore extensions against the contract of ``base`` and keep those that pass.

    A plugin is rejected when its target is not a concrete subclass of ``base``, its class ``id``
    differs from the entry point name, another plugin already took that name, or its
    ``contract_version`` differs from ``base.contract_version``.

    Args:
        group: Entry point group, used in error messages.
        base: Contract base class; it must define an ``int`` ``contract_version``.
        extensions: Loaded extensions; only ``name`` and ``plugin`` are read.
        errors: Errors already found while importing, placed first in the result.

    Raises:
        TypeError: ``base`` has no ``int`` ``contract_version``.
    """
    expected_version = getattr(base, "contract_version", None)
    if type(expected_version) is not int:
        raise TypeError(f"contract base {base.__qualname__} must define an int contract_version")

    result: PluginSet[T] = PluginSet(errors=list(errors))
    for extension in extensions:
        reason = _contract_violation(extension.name, extension.plugin, base, expected_version)
        if reason is None and extension.name in result.plugins:
            reason = "another plugin of this group already uses this entry point name"
        if reason is not None:
            logger.warning("plugin rejected group=%s plugin=%s reason=%s", group, extension.name, reason)
            result.errors.append(PluginLoadError(group, extension.name, reason))
            continue
        result.plugins[extension.name] = extension.plugin
    return result


def _contract_violation(name: str, plugin: object, base: type[Any], expected_version: int) -> str | None:
    """Return why ``plugin`` breaks the contract of ``base``, or ``None`` when it honours it."""
    if not (isinstance(plugin, type) and issubclass(plugin, base)):
        return f"{plugin!r} is not a subclass of {base.__module__}.{base.__qualname__}"

    plugin_id = getattr(plugin, "id", None)
    if plugin_id != name:
        return f"class id {plugin_id!r} differs from the entry point name {name!r}"

    declared_version = getattr(plugin, "contract_version", None)
    if type(declared_version) is not int:
        return f"contract_version must be an int, got {declared_version!r}"
    if declared_version != expected_version:
        return (
            f"written for contract version {declared_version}, but the platform provides {expected_version}"
        )

    if inspect.isabstract(plugin):
        missing = ", ".join(sorted(getattr(plugin, "__abstractmethods__", ())))
        return f"abstract methods not implemented: {missing}"
    return None
