"""Every change of a tenant's settings is a version in the platform audit log, restorable, credentials redacted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bolletta.cli.main import main
from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants import registry
from bolletta.tenants.registry import restore_settings, save_config, settings_history
from tests.integration.stack_support import create_test_tenant, new_slug, running_stack

SECRET_VALUE = "chiave-segreta-del-fornitore"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("versions")) as started:
        yield started


def _config(stack: EmbeddedStack, slug: str) -> registry.TenantConfig:
    return registry.tenant_config(registry.get_tenant(stack.rt.db, slug))


def test_change_recorded_before_and_after(stack: EmbeddedStack) -> None:
    slug = create_test_tenant(stack, new_slug("sv"))
    config = _config(stack, slug)

    save_config(stack.rt.db, slug, msgspec.structs.replace(config, ticket_validity_days=30), actor="user:anna")

    [(entry_id, _, actor, keys)] = settings_history(stack.rt.db, slug)
    with stack.rt.db.platform_session() as session:
        entry = session.get(PlatformAuditEntry, entry_id)
        assert entry is not None
        detail = entry.detail
    assert actor == "user:anna"
    assert keys == ["ticket_validity_days"]
    assert detail["before"] == {"ticket_validity_days": 15}
    assert detail["after"] == {"ticket_validity_days": 30}


def test_unchanged_save_adds_no_version(stack: EmbeddedStack) -> None:
    slug = create_test_tenant(stack, new_slug("sn"))

    save_config(stack.rt.db, slug, _config(stack, slug), actor="user:anna")

    assert settings_history(stack.rt.db, slug) == []


def test_credentials_never_in_history(stack: EmbeddedStack) -> None:
    slug = create_test_tenant(stack, new_slug("sc"))
    config = _config(stack, slug)
    changed = msgspec.structs.replace(
        config, gateway_settings={"sandbox": {"api_key": SECRET_VALUE}},
        channel_settings={"outbox": {"token": SECRET_VALUE}},
    )

    save_config(stack.rt.db, slug, changed, actor="user:anna")

    with stack.rt.db.platform_session() as session:
        details = [entry.detail for entry in session.scalars(
            select(PlatformAuditEntry).where(PlatformAuditEntry.target == slug))]
    assert details
    assert SECRET_VALUE not in str(details)
    assert details[0]["after"]["gateway_settings"] == {"sandbox": {"api_key": registry.REDACTED}}
    with pytest.raises(ConfigurationError, match="credentials"):
        restore_settings(stack.rt.db, slug, settings_history(stack.rt.db, slug)[0][0], ["gateway_settings"], "x")


def test_earlier_version_restored(stack: EmbeddedStack) -> None:
    slug = create_test_tenant(stack, new_slug("sr"))
    first = _config(stack, slug)
    original = list(first.notification_emails)
    save_config(stack.rt.db, slug, msgspec.structs.replace(first, notification_emails=["nuovo@sr.example"]),
                actor="user:anna")
    save_config(stack.rt.db, slug, msgspec.structs.replace(_config(stack, slug), ticket_validity_days=9),
                actor="user:anna")
    [version] = [entry for entry, _, _, keys in settings_history(stack.rt.db, slug, "notification_emails")]

    restore_settings(stack.rt.db, slug, version, ["notification_emails"], "user:bruno")

    restored = _config(stack, slug)
    assert restored.notification_emails == original
    assert restored.ticket_validity_days == 9
    newest = settings_history(stack.rt.db, slug)[0]
    assert newest[2] == "user:bruno"
    assert newest[3] == ["notification_emails"]


def test_restore_of_unchanged_key_rejected(stack: EmbeddedStack) -> None:
    slug = create_test_tenant(stack, new_slug("su"))
    save_config(stack.rt.db, slug, msgspec.structs.replace(_config(stack, slug), ticket_validity_days=3), actor="a")
    version = settings_history(stack.rt.db, slug)[0][0]

    with pytest.raises(ConfigurationError, match="did not change sms_sender"):
        restore_settings(stack.rt.db, slug, version, ["sms_sender"], "a")


def test_history_and_restore_commands(stack: EmbeddedStack, tmp_path: Path) -> None:
    slug = create_test_tenant(stack, new_slug("sh"))
    settings = stack.rt.settings
    env = {"BOLLETTA_DATA_DIR": str(settings.data_path), "BOLLETTA_SECRET_KEY": settings.secret_key,
           "BOLLETTA_DATABASE_URL": settings.database_url, "BOLLETTA_BROKER_URL": ""}
    changes = tmp_path / "changes.json"
    changes.write_text('{"sms_sender": "NuovoAlias"}')
    runner = CliRunner()

    changed = runner.invoke(main, ["tenant", "settings", "set", slug, str(changes), "--by", "user:ops"], env=env)
    assert changed.exit_code == 0, changed.output
    history = runner.invoke(main, ["tenant", "settings", "history", slug], env=env)
    version = history.output.split("\t", 1)[0]
    restored = runner.invoke(main, ["tenant", "settings", "restore", slug, version, "sms_sender", "--by", "user:ops"],
                             env=env)

    assert "user:ops\tsms_sender" in history.output
    assert restored.exit_code == 0, restored.output
    assert _config(stack, slug).sms_sender == "Bollette"
