"""Backoffice sign-in over HTTP: the form, CSRF, one message for every failed login."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.i18n.catalog import gettext
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, csrf_token, sign_in, web_client

ALERT = re.compile(r'<p class="notice warning" role="alert">([^<]*)</p>')


def alert_text(html: str) -> str:
    match = ALERT.search(html)
    assert match is not None, "the page shows no alert"
    return match.group(1)


def test_login_page_has_form(stack: EmbeddedStack) -> None:
    with web_client(stack) as client:
        page = client.get("/office/login")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/office/login">' in page.text
    assert 'name="username"' in page.text
    assert 'name="password"' in page.text
    assert csrf_token(page.text)
    assert ALERT.search(page.text) is None


def test_failed_logins_share_one_message(
    stack: EmbeddedStack, operator: StaffLogin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bolletta.platform.office.routes")
    with web_client(stack) as client:
        wrong_password = sign_in(client, operator.staff.username, "not the password")
        unknown_user = sign_in(client, "nobody.at.all", operator.password)
        after = client.get("/office/")

    expected = gettext("it", "Wrong username or password.")
    assert wrong_password.status_code == 401
    assert unknown_user.status_code == 401
    assert alert_text(wrong_password.text) == expected
    assert alert_text(unknown_user.text) == expected
    assert after.status_code == 303
    assert after.headers["location"] == "/office/login"
    failures = [record.getMessage() for record in caplog.records if "sign-in failed" in record.getMessage()]
    assert failures == [
        f"office: sign-in failed for username {operator.staff.username!r} from 127.0.0.1",
        "office: sign-in failed for username 'nobody.at.all' from 127.0.0.1",
    ]
    assert not any(operator.password in record.getMessage() for record in caplog.records)


def test_login_without_csrf_token_is_forbidden(stack: EmbeddedStack, operator: StaffLogin) -> None:
    form = {"username": operator.staff.username, "password": operator.password}
    with web_client(stack) as client:
        without_cookie = client.post("/office/login", data=form)
        client.get("/office/login")
        with_cookie_only = client.post("/office/login", data=form)
        forged = client.post("/office/login", data=form | {"_csrf_token": "forged"})
        after = client.get("/office/")

    assert without_cookie.status_code == 403
    assert with_cookie_only.status_code == 403
    assert forged.status_code == 403
    assert after.status_code == 303


def test_login_with_csrf_lands_on_office(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    with web_client(stack) as client:
        response = sign_in(client, operator.staff.username, operator.password)
        dashboard = client.get(response.headers.get("location", "/office/login"))

    assert response.status_code == 303
    assert response.headers["location"] == "/office/"
    assert dashboard.status_code == 200
    assert operator.staff.username in dashboard.text
    assert f"Utility {tenant.upper()} S.p.A." in dashboard.text
    with stack.rt.db.tenant_session(tenant) as session:
        sign_ins = session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.sign_in")).all()
    assert [entry.actor for entry in sign_ins] == [f"user:{operator.staff.username}"]
    assert sign_ins[0].ip == "127.0.0.1"


def test_office_redirects_when_signed_out(stack: EmbeddedStack) -> None:
    with web_client(stack) as client:
        for path in ("/office/", "/office/jobs/1", "/office/tickets"):
            response = client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/office/login", path


def test_logout_ends_session(stack: EmbeddedStack, operator: StaffLogin) -> None:
    with web_client(stack) as client:
        sign_in(client, operator.staff.username, operator.password)
        dashboard = client.get("/office/")
        logout = client.post("/office/logout", data={"_csrf_token": csrf_token(dashboard.text)})
        after = client.get("/office/")

    assert logout.status_code == 303
    assert after.status_code == 303
    assert after.headers["location"] == "/office/login"
