"""Plugin loading: discovery through stevedore, contract checks and failure isolation."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import ClassVar

import msgspec
import pytest
from stevedore import ExtensionManager
from stevedore.extension import Extension

from bolletta.channels.base import Capabilities, Channel, OutgoingMessage, SendResult
from bolletta.channels.outbox import OutboxChannel
from bolletta.channels.smtp import SmtpChannel
from bolletta.gateways.base import Gateway
from bolletta.gateways.sandbox import SandboxGateway
from bolletta.platform.plugins import (
    PluginLoadError,
    PluginSet,
    check_extensions,
    clear_plugin_cache,
    load_plugins,
)
from tests.conftest import running_in_ci

TEST_GROUP = "bolletta.tests.channels"


class _EmptySettings(msgspec.Struct):
    pass


class GoodChannel(Channel):
    id: ClassVar[str] = "good"
    name: ClassVar[str] = "Good"
    version: ClassVar[str] = "1.0"
    capabilities: ClassVar[Capabilities] = Capabilities(kinds=frozenset({"sms"}))
    contract_version: ClassVar[int] = 2
    Settings: ClassVar[type[msgspec.Struct]] = _EmptySettings

    def send(self, message: OutgoingMessage) -> SendResult:
        return SendResult(status="sent")


class WrongIdChannel(GoodChannel):
    id: ClassVar[str] = "other-name"


class FutureContractChannel(GoodChannel):
    id: ClassVar[str] = "future"
    contract_version: ClassVar[int] = 3


class StringContractChannel(GoodChannel):
    id: ClassVar[str] = "stringly"
    contract_version = "2"  # type: ignore[assignment]


class AbstractChannel(Channel):
    id: ClassVar[str] = "abstract"
    Settings: ClassVar[type[msgspec.Struct]] = _EmptySettings


class NotAChannel:
    id = "stranger"
    contract_version = 1


def _extension(name: str, plugin: object) -> Extension[Channel]:
    entry_point = EntryPoint(name=name, value=f"tests.fake:{name}", group=TEST_GROUP)
    return Extension(name, entry_point, plugin, None)  # type: ignore[arg-type]


def _check(*extensions: Extension[Channel]) -> PluginSet[Channel]:
    manager = ExtensionManager.make_test_instance(list(extensions), namespace=TEST_GROUP)
    return check_extensions(TEST_GROUP, Channel, manager.extensions)


@pytest.fixture(autouse=True)
def fresh_plugin_cache() -> Iterator[None]:
    clear_plugin_cache()
    yield
    clear_plugin_cache()


def _require_installed_entry_points() -> None:
    try:
        importlib.metadata.distribution("bolletta")
    except importlib.metadata.PackageNotFoundError:
        message = "package 'bolletta' is not installed; run `pip install -e .` to register its entry points"
        if running_in_ci():
            pytest.fail(message)
        pytest.skip(message)


def test_installed_channels_found_by_entry_point() -> None:
    _require_installed_entry_points()

    channels = load_plugins("bolletta.channels", Channel)

    assert channels.plugins["smtp"] is SmtpChannel
    assert channels.plugins["outbox"] is OutboxChannel
    assert channels.errors == []


def test_installed_gateways_found_by_entry_point() -> None:
    _require_installed_entry_points()

    gateways = load_plugins("bolletta.gateways", Gateway)

    assert gateways.plugins["sandbox"] is SandboxGateway
    assert gateways.errors == []


def test_stevedore_discovery_isolates_import_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    entry_points = [
        EntryPoint(name="outbox", value="bolletta.channels.outbox:OutboxChannel", group=TEST_GROUP),
        EntryPoint(name="broken", value="bolletta.channels.no_such_module:Missing", group=TEST_GROUP),
        EntryPoint(name="smtp", value="bolletta.channels.smtp:SmtpChannel", group=TEST_GROUP),
    ]
    monkeypatch.setitem(ExtensionManager.ENTRY_POINT_CACHE, TEST_GROUP, entry_points)

    loaded = load_plugins(TEST_GROUP, Channel)

    assert loaded.plugins == {"outbox": OutboxChannel, "smtp": SmtpChannel}
    assert len(loaded.errors) == 1
    error = loaded.errors[0]
    assert error.group == TEST_GROUP
    assert error.plugin_id == "broken"
    assert "ModuleNotFoundError" in error.reason
    assert isinstance(error.__cause__, ModuleNotFoundError)


def test_load_plugins_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    entry_points = [
        EntryPoint(name="outbox", value="bolletta.channels.outbox:OutboxChannel", group=TEST_GROUP)
    ]
    monkeypatch.setitem(ExtensionManager.ENTRY_POINT_CACHE, TEST_GROUP, entry_points)

    first = load_plugins(TEST_GROUP, Channel)
    second = load_plugins(TEST_GROUP, Channel)
    clear_plugin_cache()
    monkeypatch.setitem(ExtensionManager.ENTRY_POINT_CACHE, TEST_GROUP, entry_points)
    third = load_plugins(TEST_GROUP, Channel)

    assert second is first
    assert third is not first
    assert third.plugins == {"outbox": OutboxChannel}


def test_id_mismatch_rejected_by_name() -> None:
    loaded = _check(_extension("good", GoodChannel), _extension("mine", WrongIdChannel))

    assert loaded.plugins == {"good": GoodChannel}
    assert [error.plugin_id for error in loaded.errors] == ["mine"]
    assert "'other-name'" in loaded.errors[0].reason
    assert "'mine'" in loaded.errors[0].reason


def test_other_contract_version_rejected() -> None:
    loaded = _check(_extension("future", FutureContractChannel), _extension("good", GoodChannel))

    assert loaded.plugins == {"good": GoodChannel}
    assert [error.plugin_id for error in loaded.errors] == ["future"]
    assert "contract version 3" in loaded.errors[0].reason
    assert "provides 2" in loaded.errors[0].reason


def test_non_int_contract_version_rejected() -> None:
    loaded = _check(_extension("stringly", StringContractChannel))

    assert loaded.plugins == {}
    assert loaded.errors[0].plugin_id == "stringly"
    assert "must be an int" in loaded.errors[0].reason


def test_class_outside_contract_rejected() -> None:
    loaded = _check(_extension("stranger", NotAChannel), _extension("good", GoodChannel))

    assert loaded.plugins == {"good": GoodChannel}
    assert loaded.errors[0].plugin_id == "stranger"
    assert "not a subclass of bolletta.channels.base.Channel" in loaded.errors[0].reason


def test_abstract_plugin_rejected() -> None:
    loaded = _check(_extension("abstract", AbstractChannel))

    assert loaded.plugins == {}
    assert loaded.errors[0].plugin_id == "abstract"
    assert "send" in loaded.errors[0].reason


def test_duplicate_name_keeps_first() -> None:
    class SecondGood(GoodChannel):
        pass

    loaded = _check(_extension("good", GoodChannel), _extension("good", SecondGood))

    assert loaded.plugins == {"good": GoodChannel}
    assert [error.plugin_id for error in loaded.errors] == ["good"]
    assert "already uses" in loaded.errors[0].reason


def test_import_errors_listed_first() -> None:
    earlier = PluginLoadError(TEST_GROUP, "broken", "import failed")
    manager = ExtensionManager.make_test_instance([_extension("mine", WrongIdChannel)], namespace=TEST_GROUP)

    loaded = check_extensions(TEST_GROUP, Channel, manager.extensions, [earlier])

    assert [error.plugin_id for error in loaded.errors] == ["broken", "mine"]


def test_load_error_message_names_group_and_plugin() -> None:
    error = PluginLoadError("bolletta.channels", "skebby", "import failed: ImportError: no httpx")

    assert str(error) == (
        "plugin 'skebby' of group 'bolletta.channels' was not loaded: import failed: ImportError: no httpx"
    )


def test_base_without_contract_version_raises() -> None:
    class Unversioned:
        pass

    with pytest.raises(TypeError, match="Unversioned must define an int contract_version"):
        check_extensions(TEST_GROUP, Unversioned, [])
