"""The platform audit log's filters and pages, one tenant's audit log, platform users, system facts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.portal import view_relay
from bolletta.platform.stack import EmbeddedStack
from tests.integration.admin.console_support import SECRET, AdminLogin, admin_client, enrol, post_password
from tests.integration.stack_support import (
    WITHOUT_SMTP,
    create_staff,
    create_test_tenant,
    csrf_token,
    new_slug,
    web_client,
)

ACTION = re.compile(r'<td class="action">([^<]*)</td><td class="target">([^<]*)</td>')
TOTAL = re.compile(r"Totale risultati: (\d+) \| pagina (\d+) di (\d+)")

ENTRIES = [
    (datetime(2026, 3, 1, 10, 0, tzinfo=UTC), "user:anna.rossi", "channel.enable", "acme"),
    (datetime(2026, 3, 1, 23, 30, tzinfo=UTC), "user:anna.rossi", "job.pause", "acme"),  # 00:30 on 2 March in Rome
    (datetime(2026, 3, 5, 9, 0, tzinfo=UTC), "user:bruno.verdi", "channel.disable", "beta"),
    (datetime(2026, 3, 9, 9, 0, tzinfo=UTC), "user:bruno.verdi", "job.cancel", "acme"),
    (datetime(2026, 3, 9, 9, 5, tzinfo=UTC), "cli", "tenant.settings_changed", "acmegas"),
]
"""Platform audit entries: when, actor, action and target."""


@pytest.fixture
def entries(stack: EmbeddedStack) -> None:
    with stack.rt.db.platform_session() as session:
        session.execute(delete(PlatformAuditEntry).where(PlatformAuditEntry.at < datetime(2026, 4, 1, tzinfo=UTC)))
        session.add_all(PlatformAuditEntry(at=at, actor=actor, action=action, target=target, detail={}, ip="")
                        for at, actor, action, target in ENTRIES)
        session.commit()


def found(html: str) -> list[tuple[str, str]]:
    return ACTION.findall(html)


@pytest.mark.parametrize(("query", "expected"), [
    ("tenant=acme&date_to=2026-03-31", [("job.cancel", "acme"), ("job.pause", "acme"), ("channel.enable", "acme")]),
    ("actor=bruno&date_to=2026-03-31", [("job.cancel", "acme"), ("channel.disable", "beta")]),
    ("action=channel.&date_to=2026-03-31", [("channel.disable", "beta"), ("channel.enable", "acme")]),
    ("date_from=2026-03-02&date_to=2026-03-05", [("channel.disable", "beta"), ("job.pause", "acme")]),
    ("date_from=2026-03-01&date_to=2026-03-01", [("channel.enable", "acme")]),
    ("actor=anna&action=job.&tenant=acme&date_to=2026-03-31", [("job.pause", "acme")]),
    ("tenant=nessuno", []),
])
def test_platform_audit_filters(stack: EmbeddedStack, admin: AdminLogin, entries: None, query: str,
                                expected: list[tuple[str, str]]) -> None:
    with admin_client(stack, admin) as client:
        page = client.get(f"/admin/audit?{query}")

    assert page.status_code == 200
    assert found(page.text) == expected


def test_platform_audit_pages_and_unreadable_filters(stack: EmbeddedStack, admin: AdminLogin, entries: None) -> None:
    with admin_client(stack, admin) as client:
        second = client.get("/admin/audit?date_to=2026-03-31&size=2&page=2")
        oldest_first = client.get("/admin/audit?date_to=2026-03-31&dir=asc&size=2")
        bad_date = client.get("/admin/audit?date_from=31-02-2026")
        before = client.get("/admin/audit?date_to=2026-03-31").text
        token = re.search(r'name="_csrf_token" value="([^"]*)"', before).group(1)  # type: ignore[union-attr]
        write = client.post("/admin/audit", data={"_csrf_token": token})

    assert found(second.text) == [("channel.disable", "beta"), ("job.pause", "acme")]
    assert TOTAL.search(second.text).groups() == ("5", "2", "3")  # type: ignore[union-attr]
    assert found(oldest_first.text) == [("channel.enable", "acme"), ("job.pause", "acme")]
    assert bad_date.status_code == 200
    assert "date_from" in bad_date.text
    assert found(bad_date.text) == []
    assert len(found(before)) == 5
    assert write.status_code == 405  # the log is read-only


def test_one_tenants_audit_log(stack: EmbeddedStack, admin: AdminLogin, tenant: str) -> None:
    with admin_client(stack, admin) as client:
        token = re.search(r'name="_csrf_token" value="([^"]*)"', client.get(f"/admin/tenants/{tenant}").text)
        client.post(f"/admin/tenants/{tenant}/plugins/channel/outbox",
                    data={"_csrf_token": token.group(1), "enabled": "0"})  # type: ignore[union-attr]
        everything = client.get(f"/admin/tenants/{tenant}/audit")
        filtered = client.get(f"/admin/tenants/{tenant}/audit?action=job.")
        missing = client.get("/admin/tenants/nessuno/audit")

    assert found(everything.text) == [("channel.disable", "channel:outbox")]
    assert found(filtered.text) == []
    assert missing.status_code == 404


def test_platform_users_show_role_and_totp(stack: EmbeddedStack, admin: AdminLogin, tenant: str) -> None:
    never = create_staff(stack, f"{new_slug('nuovo')}.piattaforma", "platform_admin", None)
    create_staff(stack, f"{tenant}.ufficio", "tenant_viewer", tenant)
    with admin_client(stack, admin) as client:
        page = client.get("/admin/users")

    rows = dict(re.findall(r'data-user="([^"]+)">.*?<td class="totp">([^<]+)</td>', page.text, re.S))
    assert rows[admin.username] == "attivato"
    assert rows[never.staff.username] == "non attivato"
    assert all("ufficio" not in username for username in rows)  # tenant staff are not platform users
    assert "platform_admin" in page.text


def test_system_page_shows_readiness_version_and_waiting_work(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with admin_client(stack, admin) as client:
        page = client.get("/admin/system")

    assert page.status_code == 200
    for check in ("database", "broker", "storage", "sftp"):
        assert re.search(rf'data-check="{check}"><td>{check}</td><td>OK</td>', page.text), check
    assert re.search(r'<dd class="version">\d+\.\d+', page.text)
    assert re.search(r'<dd class="waiting-tasks">\d+', page.text)
    assert '<span class="readiness">operativo</span>' in page.text
    assert re.search(r'data-check="view_writer"><td>view_writer \(facoltativo\)</td><td>OK</td>', page.text)


def test_system_page_shows_view_writer_down_as_degraded(stack: EmbeddedStack, admin: AdminLogin,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(view_relay.SOCKET_VARIABLE, str(tmp_path / "views.sock"))

    with admin_client(stack, admin) as client:
        page = client.get("/admin/system")

    assert page.status_code == 200
    assert '<span class="readiness">operativo, degradato</span>' in page.text
    assert re.search(r'data-check="view_writer"><td>view_writer \(facoltativo\)</td><td>degradato</td>'
                     r'<td>failed: FileNotFoundError; the server processes write', page.text)


def test_reset_totp_ends_sessions_and_asks_enrolment(stack: EmbeddedStack, admin: AdminLogin) -> None:
    other = enrol(stack, create_staff(stack, f"{new_slug('collega')}.piattaforma", "platform_admin", None))
    with admin_client(stack, other) as other_client, admin_client(stack, admin) as client:
        token = csrf_token(client.get("/admin/users").text)
        reset = client.post(f"/admin/users/{other.login.staff.user_id}/reset-totp", data={"_csrf_token": token})
        tenant_user = client.post(f"/admin/users/{tenant_user_id(stack)}/end-sessions", data={"_csrf_token": token})
        other_after = other_client.get("/admin/")

    with web_client(stack) as fresh:
        post_password(fresh, other.username, other.login.password)
        again = fresh.get("/admin/login/code")

    assert reset.headers["location"] == "/admin/users?done=reset-totp"
    assert tenant_user.status_code == 404  # tenant staff are not platform users
    assert other_after.headers["location"] == "/admin/login"
    assert SECRET.search(again.text) is not None  # a new enrolment
    with stack.rt.db.platform_session() as session:
        entry = session.scalars(select(PlatformAuditEntry).where(PlatformAuditEntry.action == "user.reset_totp")).one()
    assert entry.actor == f"user:{admin.username}"
    assert entry.detail == {"user": other.username}


def test_end_sessions_signs_the_user_out(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get("/admin/users").text)
        ended = client.post(f"/admin/users/{admin.login.staff.user_id}/end-sessions", data={"_csrf_token": token})
        after = client.get("/admin/users")

    assert ended.headers["location"] == "/admin/users?done=end-sessions"
    assert after.headers["location"] == "/admin/login"


def tenant_user_id(stack: EmbeddedStack) -> int:
    slug = create_test_tenant(stack, new_slug("persone"), **WITHOUT_SMTP)
    user_id = create_staff(stack, f"{slug}.amministratore", "tenant_admin", slug).staff.user_id
    assert user_id is not None
    return user_id
