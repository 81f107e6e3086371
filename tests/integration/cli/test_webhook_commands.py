"""``bolletta webhook``: add with a secret shown once, list, deliveries, remove."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bolletta.cli.main import main


def _run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_add_list_remove(tmp_path: Path) -> None:
    env = {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_SECRET_KEY": "k" * 48, "BOLLETTA_DATABASE_URL": ""}
    _run(env, "db", "upgrade")
    _run(env, "tenant", "create", "acme", "ACME Energia S.p.A.")

    added = _run(env, "webhook", "add", "acme", "https://erp.example.it/bolletta", "--event", "job.state_changed",
                 "--by", "user:mario")
    listed = _run(env, "webhook", "list", "acme")
    removed = _run(env, "webhook", "remove", "acme", "1", "--by", "user:mario")
    after = _run(env, "webhook", "list", "acme")

    secret = added.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    assert listed.strip() == "1\tactive\thttps://erp.example.it/bolletta\tjob.state_changed"
    assert secret not in listed
    assert removed.strip() == "Endpoint 1 removed."
    assert after.strip().startswith("1\tremoved\t")
    assert _run(env, "webhook", "deliveries", "acme").strip() == ""


def test_http_url_refused(tmp_path: Path) -> None:
    env = {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_SECRET_KEY": "k" * 48, "BOLLETTA_DATABASE_URL": ""}
    _run(env, "db", "upgrade")
    _run(env, "tenant", "create", "acme", "ACME Energia S.p.A.")

    result = CliRunner().invoke(main, ["webhook", "add", "acme", "http://erp.example.it/x", "--event",
                                       "job.state_changed", "--by", "user:mario"], env=env)

    assert result.exit_code == 1
    assert "Webhook URL 'http://erp.example.it/x' is not valid: use an absolute https:// URL." in result.output
