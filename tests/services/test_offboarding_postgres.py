"""Off-boarding on PostgreSQL and Redis: the tenant's schema, rows, files and keys are all gone."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select, text

from bolletta.platform import runtime
from bolletta.platform.db import migrate
from bolletta.platform.db.base import PlatformBase
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings
from bolletta.platform.storage import storage_from_settings
from bolletta.tenants import lifecycle
from bolletta.tenants.accounts import create_sftp_account, create_user
from bolletta.tenants.registry import create_tenant
from tests.integration.privacy.people import add_customer

pytestmark = pytest.mark.services

SECRET = "o" * 48
SLUG = "uscente"


@pytest.fixture(scope="module")
def rt(database_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    settings = load_settings(environ={}, data_dir=str(tmp_path_factory.mktemp("offboarding")),
                             database_url=database_url, broker_url=broker_url, secret_key=SECRET)
    configured = runtime.configure(settings)
    migrate.upgrade_platform(configured.db)
    create_tenant(configured.db, SLUG, "Uscente Energia")
    create_tenant(configured.db, "restante", "Restante Gas")
    yield configured
    configured.db.dispose()


def test_offboarding_leaves_no_trace(rt: Runtime, broker_url: str, tmp_path: Path) -> None:
    add_customer(rt, SLUG, "UX001", "RSSMRA80A01H501U", expires="2027-01-25 00:00")
    add_customer(rt, "restante", "RX001", "VRDLGU75B02F205X", expires="2027-01-25 00:00")
    create_sftp_account(rt.db, SLUG, f"{SLUG}-sftp", "password-sftp-lunga")
    create_user(rt.db, f"{SLUG}.admin", "password-admin-lunga", "tenant_admin", tenant_slug=SLUG)
    storage_from_settings(rt.settings).put(SLUG, "bills/UX001.pdf", b"%PDF-1.7 fake")
    client = redis.Redis.from_url(broker_url)
    client.set(f"bolletta:limit:{SLUG}:sms", "1")  # keys named after tenants, as a plugin might keep
    client.set("bolletta:limit:restante:sms", "1")

    report = lifecycle.offboard(rt, SLUG, "user:ops", tmp_path / "uscente.zip")

    with zipfile.ZipFile(report.archive) as exported:
        assert "files/bills/UX001.pdf" in exported.namelist()
        assert json.loads(exported.read("tenant.json"))["slug"] == SLUG
    with rt.db.platform_session() as session:
        schemas = list(session.execute(text("SELECT schema_name FROM information_schema.schemata")).scalars())
        leftovers = []
        for table in PlatformBase.metadata.sorted_tables:
            if table.name == "audit_entries":
                continue
            for row in session.execute(select(table)):
                if SLUG in json.dumps(list(row), default=str):
                    leftovers.append(table.name)
    assert f"tenant_{SLUG}" not in schemas
    assert "tenant_restante" in schemas
    assert leftovers == []
    assert list(storage_from_settings(rt.settings).tenant_keys(SLUG)) == []
    assert list(client.scan_iter(match=f"*{SLUG}*")) == []
    assert client.get("bolletta:limit:restante:sms") == b"1"
    client.delete("bolletta:limit:restante:sms")
