"""Suspending, resuming and off-boarding a tenant on the embedded stack."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from bolletta.platform.db.base import PlatformBase
from bolletta.platform.db.models.tenant import Bill, Message, Ticket
from bolletta.platform.errors import InvalidTransition
from bolletta.platform.i18n.catalog import gettext
from bolletta.platform.jobs import approval
from bolletta.platform.sftp.layout import InboxLayout
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants import lifecycle
from bolletta.tenants.accounts import authenticate_sftp, create_sftp_account
from tests.integration.stack_support import (
    LINK_PATTERN,
    create_staff,
    create_test_tenant,
    new_slug,
    run_to_test_sent,
    running_stack,
    stored_texts,
    wait_idle,
    web_client,
)

ACTOR = "user:operatore-piattaforma"
SFTP_PASSWORD = "password-sftp-lunga"
UNKNOWN_TOKEN = "AAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("lifecycle")) as started:
        yield started


def _customer_link(stack: EmbeddedStack, slug: str) -> str:
    for stored in stored_texts(stack, slug):
        match = LINK_PATTERN.search(stored)
        if match is not None:
            return f"/c/{match.group(1)}/t/{match.group(2)}"
    raise AssertionError(f"no customer link stored for {slug}")


def _message_states(stack: EmbeddedStack, slug: str, job_id: int) -> list[str]:
    with stack.rt.db.tenant_session(slug) as session:
        return list(session.scalars(
            select(Message.status).join(Ticket, Ticket.id == Message.ticket_id)
            .where(Ticket.job_id == job_id, Ticket.is_test.is_(False))
        ))


def test_suspension_stops_links_sftp_and_sending(stack: EmbeddedStack) -> None:
    slug = create_test_tenant(stack, new_slug("su"))
    create_sftp_account(stack.rt.db, slug, f"{slug}-sftp", SFTP_PASSWORD)
    job_id = run_to_test_sent(stack, slug)
    link = _customer_link(stack, slug)
    operator = create_staff(stack, f"{slug}-op", "tenant_operator", slug).staff
    approval.approve(stack.rt, slug, job_id, operator)
    with web_client(stack) as client:
        unknown = client.get(f"/c/{slug}/t/{UNKNOWN_TOKEN}")
        assert client.get(link).status_code == 303

        lifecycle.suspend(stack.rt, slug, ACTOR, reason="contratto sospeso")
        approval.start_dispatch(stack.rt, slug, job_id, operator)
        wait_idle(stack)
        suspended = client.get(link)

    assert suspended.status_code == unknown.status_code
    assert gettext("it", "Link no longer valid") in suspended.text
    assert f"Utility {slug.upper()}" in unknown.text
    assert f"Utility {slug.upper()}" not in suspended.text
    assert authenticate_sftp(stack.rt.db, f"{slug}-sftp", SFTP_PASSWORD) is None
    states = _message_states(stack, slug, job_id)
    assert states
    assert set(states) == {"created"}

    queued = lifecycle.resume(stack.rt, slug, ACTOR)
    wait_idle(stack)

    assert queued == len(states)
    assert "created" not in _message_states(stack, slug, job_id)
    assert authenticate_sftp(stack.rt.db, f"{slug}-sftp", SFTP_PASSWORD) == slug


def test_suspending_twice_rejected(stack: EmbeddedStack) -> None:
    slug = create_test_tenant(stack, new_slug("st"))
    lifecycle.suspend(stack.rt, slug, ACTOR)

    with pytest.raises(InvalidTransition):
        lifecycle.suspend(stack.rt, slug, ACTOR)
    lifecycle.resume(stack.rt, slug, ACTOR)
    with pytest.raises(InvalidTransition):
        lifecycle.resume(stack.rt, slug, ACTOR)


def _platform_traces(stack: EmbeddedStack, slug: str) -> list[str]:
    """Cells of every platform table (the audit log aside) that contain ``slug``."""
    found = []
    with stack.rt.db.platform_session() as session:
        for table in PlatformBase.metadata.sorted_tables:
            if table.name == "audit_entries":
                continue
            for row in session.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    if slug in json.dumps(value, default=str):
                        found.append(f"{table.name}.{column.name}")
    return found


def test_offboarding_exports_then_deletes(stack: EmbeddedStack, tmp_path: Path) -> None:
    slug = create_test_tenant(stack, new_slug("ob"))
    create_sftp_account(stack.rt.db, slug, f"{slug}-sftp", SFTP_PASSWORD)
    create_staff(stack, f"{slug}-admin", "tenant_admin", slug)
    job_id = run_to_test_sent(stack, slug)
    link = _customer_link(stack, slug)
    with stack.rt.db.tenant_session(slug) as session:
        bills = session.scalar(select(Bill.id).where(Bill.job_id == job_id).order_by(Bill.id.desc()).limit(1))
        document_numbers = sorted(session.scalars(select(Bill.document_number).where(Bill.job_id == job_id)))
    assert bills is not None
    storage_root = stack.rt.settings.data_path / "storage" / slug
    assert storage_root.is_dir()
    archive = tmp_path / f"{slug}.zip"

    report = lifecycle.offboard(stack.rt, slug, ACTOR, archive)

    with zipfile.ZipFile(archive) as exported:
        names = exported.namelist()
        lines = exported.read("data/bills.jsonl").decode().splitlines()
        rows = list(csv.reader(io.StringIO(exported.read("data/bills.csv").decode("utf-8-sig")), delimiter=";"))
        summary = json.loads(exported.read("tenant.json"))
    assert sorted(json.loads(line)["document_number"] for line in lines) == document_numbers
    assert len(rows) == len(document_numbers) + 1
    assert "document_number" in rows[0]
    assert report.rows["bills"] == len(document_numbers)
    assert report.files == len([name for name in names if name.startswith("files/")])
    assert report.files > 0
    assert summary["slug"] == slug
    assert "channel_settings" not in summary["settings"]
    assert not storage_root.exists()
    assert not (stack.rt.settings.data_path / "tenants" / f"{slug}.db").exists()
    layout = InboxLayout(stack.rt.settings.data_path / "sftp")
    assert not layout.area(slug).exists()
    assert _platform_traces(stack, slug) == []
    with web_client(stack) as client:
        gone = client.get(link)
        unknown = client.get(f"/c/{slug}/t/{UNKNOWN_TOKEN}")
    assert gone.status_code == 404
    assert unknown.status_code == 404
    assert gettext("it", "Link no longer valid") in gone.text


def test_offboarding_never_overwrites_an_export(stack: EmbeddedStack, tmp_path: Path) -> None:
    slug = create_test_tenant(stack, new_slug("ow"))
    archive = tmp_path / "esistente.zip"
    archive.write_bytes(b"earlier export")

    with pytest.raises(FileExistsError):
        lifecycle.offboard(stack.rt, slug, ACTOR, archive)

    assert archive.read_bytes() == b"earlier export"
    with stack.rt.db.tenant_session(slug) as session:
        assert session.execute(text("SELECT 1")).scalar() == 1
    assert _platform_traces(stack, slug) != []


def test_offboard_command_needs_confirmation(stack: EmbeddedStack, tmp_path: Path) -> None:
    slug = create_test_tenant(stack, new_slug("oc"))
    settings = stack.rt.settings
    env = {"BOLLETTA_DATA_DIR": str(settings.data_path), "BOLLETTA_SECRET_KEY": settings.secret_key,
           "BOLLETTA_DATABASE_URL": settings.database_url, "BOLLETTA_BROKER_URL": ""}
    from bolletta.cli.main import main

    refused = CliRunner().invoke(main, ["tenant", "offboard", slug, "--export", str(tmp_path / "a.zip"),
                                        "--by", "ops"], env=env)

    missing_folder = CliRunner().invoke(main, ["tenant", "offboard", slug, "--export", str(tmp_path / "no" / "a.zip"),
                                               "--by", "ops", "--yes"], env=env)

    assert refused.exit_code != 0
    assert "--yes" in refused.output
    assert missing_folder.exit_code == 1
    assert "does not exist" in missing_folder.output
    assert "Traceback" not in missing_folder.output
    assert not (tmp_path / "a.zip").exists()
    assert _platform_traces(stack, slug) != []
