"""TOTP sign-in: enrolment when the tenant requires it, the code step afterwards, wrong codes, lockout."""

from __future__ import annotations

import re

import msgspec
import pyotp
import pytest
from sqlalchemy import select

from bolletta.platform.db.models.platform import Tenant, User
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.office import lockout
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.config import decode_config
from tests.integration.stack_support import StaffLogin, csrf_token, sign_in, web_client

SECRET = re.compile(r'<strong class="totp-secret">([A-Z2-7 ]+)</strong>')


@pytest.fixture
def requires_totp(stack: EmbeddedStack, tenant: str) -> str:
    with stack.rt.db.platform_session() as session:
        row = session.scalars(select(Tenant).where(Tenant.slug == tenant)).one()
        config = msgspec.structs.replace(decode_config(row.settings), require_totp=True)
        row.settings = msgspec.to_builtins(config)
        session.commit()
    return tenant


def post_code(client: object, page_text: str, code: str) -> object:
    return client.post("/office/login/code", data={"_csrf_token": csrf_token(page_text), "code": code})  # type: ignore[attr-defined]


def test_enrol_then_sign_in_with_codes(stack: EmbeddedStack, requires_totp: str, operator: StaffLogin) -> None:
    username = operator.staff.username
    with web_client(stack) as client:
        password_step = sign_in(client, username, operator.password)
        before = client.get("/office/")
        enrol_page = client.get("/office/login/code")
        secret = SECRET.search(enrol_page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
        wrong = post_code(client, enrol_page.text, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
        accepted = post_code(client, enrol_page.text, pyotp.TOTP(secret).now())
        office = client.get("/office/")

    assert password_step.headers["location"] == "/office/login/code"
    assert before.status_code == 303  # not signed in between the password and the code
    assert wrong.status_code == 401  # type: ignore[attr-defined]
    assert accepted.headers["location"] == "/office/"  # type: ignore[attr-defined]
    assert office.status_code == 200
    with stack.rt.db.platform_session() as session:
        stored = session.scalar(select(User.totp_secret).where(User.username == username))
    assert stored is not None and secret not in stored  # kept encrypted

    with web_client(stack) as client:
        sign_in(client, username, operator.password)
        code_page = client.get("/office/login/code")
        again = post_code(client, code_page.text, pyotp.TOTP(secret).now())

    assert "totp-secret" not in code_page.text  # no new secret once enrolled
    assert again.headers["location"] == "/office/"  # type: ignore[attr-defined]
    with stack.rt.db.tenant_session(requires_totp) as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["staff.totp_enrol", "staff.sign_in", "staff.sign_in"]


def test_wrong_codes_lock_the_user(stack: EmbeddedStack, requires_totp: str, viewer: StaffLogin) -> None:
    with web_client(stack) as client:
        sign_in(client, viewer.staff.username, viewer.password)
        page = client.get("/office/login/code")
        secret = SECRET.search(page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
        bad = "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"
        for _ in range(lockout.MAX_FAILURES):
            post_code(client, page.text, bad)
        locked = post_code(client, page.text, pyotp.TOTP(secret).now())

    assert locked.status_code == 401  # type: ignore[attr-defined]
    assert "Troppi tentativi" in locked.text  # type: ignore[attr-defined]
    assert lockout.is_locked(stack.rt.db, viewer.staff.username, "127.0.0.1")


def test_code_page_without_password_step(stack: EmbeddedStack) -> None:
    with web_client(stack) as client:
        response = client.get("/office/login/code")

    assert response.status_code == 303
    assert response.headers["location"] == "/office/login"


def test_without_requirement_no_code_is_asked(stack: EmbeddedStack, operator: StaffLogin) -> None:
    with web_client(stack) as client:
        response = sign_in(client, operator.staff.username, operator.password)

    assert response.headers["location"] == "/office/"
