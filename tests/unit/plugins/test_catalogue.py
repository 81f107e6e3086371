"""The plugin catalogue: every channel and gateway with its capabilities, broken ones by name."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bolletta.cli.main import main
from bolletta.cli.plugins import plugin_catalogue
from bolletta.platform.plugins import PluginLoadError, PluginSet


def test_catalogue_lists_channels_and_gateways() -> None:
    catalogue = plugin_catalogue()
    channels = {entry["id"]: entry for entry in catalogue["channels"]}
    assert {"smtp", "outbox", "skebby", "twilio", "whatsapp"} <= set(channels)
    assert channels["twilio"]["kinds"] == ["sms"] and channels["twilio"]["version"]
    assert "sandbox" in {entry["id"] for entry in catalogue["gateways"]}


def test_cli_prints_the_catalogue_as_json() -> None:
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.output)
    assert any(entry["id"] == "skebby" for entry in parsed["channels"])


def test_broken_plugin_is_listed_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from bolletta.platform.dispatch import channels

    real = channels.installed_channels()
    broken = PluginSet(plugins=dict(real.plugins),
                       errors=[PluginLoadError("bolletta.channels", "fax", "import failed: ModuleNotFoundError")])
    monkeypatch.setattr(channels, "installed_channels", lambda: broken)
    entries = {entry["id"]: entry for entry in channels.channel_catalogue()}
    assert entries["fax"] == {"id": "fax", "loaded": False, "error": "import failed: ModuleNotFoundError"}
    assert entries["smtp"]["loaded"] is True
