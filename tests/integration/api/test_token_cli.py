"""The ``bolletta token`` commands: create prints the token once, list never shows it, revoke."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bolletta.cli.main import main
from bolletta.platform import runtime
from bolletta.platform.db.models.platform import ApiToken, PlatformAuditEntry

SECRET = "s" * 48


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    # The commands configure the process's runtime; the stack of the other tests in this folder needs it back.
    monkeypatch.setattr(runtime, "_current", runtime._current)
    return {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_SECRET_KEY": SECRET, "BOLLETTA_DATABASE_URL": "",
            "BOLLETTA_BROKER_URL": ""}


def invoke(env: dict[str, str], *args: str, exit_code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == exit_code, result.output
    return result.output


def test_create_list_and_revoke(env: dict[str, str]) -> None:
    invoke(env, "db", "upgrade")
    invoke(env, "tenant", "create", "acme", "ACME Energia S.p.A.")

    created = invoke(env, "token", "create", "acme", "gestionale", "--scope", "jobs:write", "--scope", "jobs:read")
    token = created.strip().splitlines()[-1]
    listed = invoke(env, "token", "list", "acme")
    revoked = invoke(env, "token", "revoke", "1")
    listed_after = invoke(env, "token", "list", "acme")

    assert "API token #1 (gestionale) for acme, scopes jobs:write jobs:read." in created
    assert token.startswith("bst_")
    assert token not in listed
    assert f"#1\tgestionale\t{token[:8]}…\tjobs:write,jobs:read\tlast used never\tactive" in listed
    assert "API token #1 (gestionale) revoked." in revoked
    assert "\trevoked " in listed_after
    with runtime.current().db.platform_session() as session:
        row = session.scalar(select(ApiToken))
        actions = list(session.scalars(select(PlatformAuditEntry.action).order_by(PlatformAuditEntry.id)))
    assert row is not None
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert row.revoked_at is not None
    assert actions == ["api_token.create", "api_token.revoke"]


def test_create_rejects_unknown_scope(env: dict[str, str]) -> None:
    invoke(env, "db", "upgrade")
    invoke(env, "tenant", "create", "acme", "ACME")

    output = invoke(env, "token", "create", "acme", "x", "--scope", "jobs:delete", exit_code=1)

    assert "Unknown scope jobs:delete" in output
    assert "bst_" not in output


def test_create_for_unknown_tenant(env: dict[str, str]) -> None:
    invoke(env, "db", "upgrade")

    output = invoke(env, "token", "create", "nessuno", "x", "--scope", "jobs:read", exit_code=1)

    assert "Tenant 'nessuno' not found." in output


def test_revoke_unknown_token(env: dict[str, str]) -> None:
    invoke(env, "db", "upgrade")

    output = invoke(env, "token", "revoke", "99", exit_code=1)

    assert "API token #99 not found." in output
