"""A tenant whose schema PostgreSQL refuses to create: the admin reads what to check, the log the refusal."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy import select

from bolletta.platform.db import migrate
from bolletta.platform.db.base import PLATFORM_SCHEMA
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.i18n.message import render
from bolletta.platform.settings import load_settings
from bolletta.tenants.provisioning_errors import ProvisioningFailed
from bolletta.tenants.registry import create_tenant

pytestmark = pytest.mark.services


@pytest.fixture
def limited_db(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The platform migrated by the superuser, then opened as a role that may not create schemas."""
    owner = Database(load_settings(environ={}, data_dir=str(tmp_path_factory.mktemp("pg")),
                                   database_url=database_url))
    migrate.upgrade_platform(owner)
    owner.dispose()
    role = f"bolletta_limited_{uuid.uuid4().hex[:8]}"
    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE ROLE "{role}" LOGIN')
        connection.execute(f'GRANT USAGE ON SCHEMA "{PLATFORM_SCHEMA}" TO "{role}"')
        connection.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA "{PLATFORM_SCHEMA}" TO "{role}"')
        connection.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{PLATFORM_SCHEMA}" TO "{role}"')
    url = urlsplit(database_url)
    limited_url = url._replace(netloc=f"{role}@{url.hostname}:{url.port or 5432}").geturl()
    database = Database(load_settings(environ={}, data_dir=str(tmp_path_factory.mktemp("pg")),
                                      database_url=limited_url))
    yield database
    database.dispose()
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'DROP OWNED BY "{role}"')
        connection.execute(f'DROP ROLE "{role}"')


def test_schema_refused_named_not_quoted(limited_db: Database, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(ProvisioningFailed) as caught:
        create_tenant(limited_db, "vietato", "Vietato S.r.l.")

    assert caught.value.part == "tenant"
    shown_it, shown_en = render(caught.value.reason, "it"), render(caught.value.reason, "en")
    assert shown_it.startswith("Non è stato possibile creare lo schema di database dell'azienda.")
    assert "possa creare schemi" in shown_it
    assert shown_en.startswith("The utility's database schema could not be created.")
    assert str(caught.value) == shown_en
    for shown in (shown_it, shown_en):
        assert "permission denied" not in shown
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "provisioning tenant vietato failed: ProgrammingError: permission denied for database" in logged
    assert "[SQL:" not in logged  # SQLAlchemy quotes the statement after this marker
    with limited_db.platform_session() as session:
        assert session.scalar(select(Tenant.id).where(Tenant.slug == "vietato")) is None
