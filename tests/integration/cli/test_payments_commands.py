"""``bolletta payments``: saving gateway settings encrypted, and reconciling with nothing pending."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from bolletta.cli.main import main
from bolletta.platform import runtime
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.settings import load_settings

SECRET = "s" * 48


def _env(tmp_path: Path) -> dict[str, str]:
    return {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_SECRET_KEY": SECRET, "BOLLETTA_DATABASE_URL": "",
            "BOLLETTA_BROKER_URL": ""}


def test_set_gateway_and_reconcile(tmp_path: Path) -> None:
    env = _env(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env, catch_exceptions=False).exit_code == 0
    assert runner.invoke(main, ["tenant", "create", "acme", "ACME"], env=env, catch_exceptions=False).exit_code == 0
    settings_file = tmp_path / "nexi.json"
    settings_file.write_text(json.dumps({"mode": "classic", "alias": "ALIAS_1", "mac_key": "very-secret-mac-key"}))

    saved = runner.invoke(main, ["payments", "set-gateway", "acme", "nexi", str(settings_file)], env=env,
                          catch_exceptions=False)
    reconciled = runner.invoke(main, ["payments", "reconcile"], env=env, catch_exceptions=False)

    assert saved.exit_code == 0, saved.output
    assert "stored encrypted" in saved.output
    assert reconciled.exit_code == 0, reconciled.output
    assert "acme: nothing pending" in reconciled.output
    rt = runtime.configure(load_settings(environ=env))
    with rt.db.platform_session() as session:
        stored = session.scalars(select(Tenant.settings).where(Tenant.slug == "acme")).one()
    assert "very-secret-mac-key" not in json.dumps(stored)
    assert "nexi" in stored["enabled_gateways"]


def test_set_gateway_rejects_bad_file(tmp_path: Path) -> None:
    env = _env(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"], env=env, catch_exceptions=False)
    runner.invoke(main, ["tenant", "create", "acme", "ACME"], env=env, catch_exceptions=False)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    result = runner.invoke(main, ["payments", "set-gateway", "acme", "nexi", str(broken)], env=env)

    assert result.exit_code != 0
    assert "is not valid JSON" in result.output
