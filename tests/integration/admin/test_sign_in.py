"""Console sign-in: TOTP enrolment on the first sign-in, the code afterwards, refusals and lockout."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from bolletta.platform.db.models.platform import PlatformAuditEntry, User
from bolletta.platform.office import lockout
from bolletta.platform.stack import EmbeddedStack
from tests.integration.admin.console_support import (
    SECRET,
    AdminLogin,
    admin_client,
    forget_last_code,
    post_code,
    post_password,
    wrong_code,
)
from tests.integration.stack_support import StaffLogin, create_staff, csrf_token, sign_in, web_client


def audit_actions(stack: EmbeddedStack, username: str) -> list[str]:
    with stack.rt.db.platform_session() as session:
        return list(session.scalars(select(PlatformAuditEntry.action)
                                    .where(PlatformAuditEntry.actor == f"user:{username}")
                                    .order_by(PlatformAuditEntry.id)))


def test_totp_enrolment_then_code(stack: EmbeddedStack,
                                                                   new_admin: StaffLogin) -> None:
    username = new_admin.staff.username
    with web_client(stack) as client:
        password_step = post_password(client, username, new_admin.password)
        between = client.get("/admin/")
        enrol_page = client.get("/admin/login/code")
        secret = SECRET.search(enrol_page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
        refused = post_code(client, enrol_page.text, wrong_code(secret))
        accepted = post_code(client, enrol_page.text, pyotp.TOTP(secret).now())
        console = client.get("/admin/")

    assert password_step.headers["location"] == "/admin/login/code"
    assert between.headers["location"] == "/admin/login"  # the password alone signs no one in
    assert "otpauth://totp/" in enrol_page.text
    assert "<svg" in enrol_page.text
    assert refused.status_code == 401
    assert accepted.headers["location"] == "/admin/"
    assert console.status_code == 200
    assert username in console.text
    with stack.rt.db.platform_session() as session:
        stored = session.scalar(select(User.totp_secret).where(User.username == username))
    assert stored is not None
    assert secret not in stored  # kept encrypted

    forget_last_code(stack, username)
    with web_client(stack) as client:
        post_password(client, username, new_admin.password)
        code_page = client.get("/admin/login/code")
        again = post_code(client, code_page.text, pyotp.TOTP(secret).now())

    assert "totp-secret" not in code_page.text  # no new secret once enrolled
    assert again.headers["location"] == "/admin/"
    assert audit_actions(stack, username) == ["admin.sign_in_refused", "admin.totp_enrol", "admin.sign_in",
                                              "admin.sign_in"]


def test_password_rejections_look_alike(stack: EmbeddedStack, admin: AdminLogin,
                                                              tenant: str) -> None:
    tenant_admin = create_staff(stack, f"{tenant}.amministratore", "tenant_admin", tenant)
    with web_client(stack) as client:
        wrong = post_password(client, admin.username, admin.login.password + "x")
        staff = post_password(client, tenant_admin.staff.username, tenant_admin.password)
        unknown = post_password(client, "nessuno.qui", "una-password-lunga")

    assert wrong.status_code == staff.status_code == unknown.status_code == 401
    assert wrong.text == staff.text == unknown.text.replace(csrf_token(unknown.text), csrf_token(wrong.text))
    assert "Nome utente o password errati" in wrong.text


def test_platform_admin_cannot_sign_in_to_the_office(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with web_client(stack) as client:
        response = sign_in(client, admin.username, admin.login.password)

    assert response.status_code == 401


def test_wrong_codes_lock_username(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with web_client(stack) as client:
        post_password(client, admin.username, admin.login.password)
        page = client.get("/admin/login/code")
        for _ in range(lockout.MAX_FAILURES):
            post_code(client, page.text, wrong_code(admin.secret))
        locked = post_code(client, page.text, pyotp.TOTP(admin.secret).now())
        password_again = post_password(client, admin.username, admin.login.password)

    assert locked.status_code == 401
    assert "Troppi tentativi" in locked.text
    assert lockout.is_locked(stack.rt.db, admin.username, "127.0.0.1")
    assert password_again.status_code == 401  # locked at the password step too
    assert audit_actions(stack, admin.username)[-1] == "admin.sign_in_refused"


def test_wrong_passwords_lock_the_username(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with web_client(stack) as client:
        for _ in range(lockout.MAX_FAILURES):
            post_password(client, admin.username, "sbagliata-di-proposito")
        right = post_password(client, admin.username, admin.login.password)

    assert right.status_code == 401
    assert lockout.is_locked(stack.rt.db, admin.username, "127.0.0.1")


def test_code_page_without_the_password_step(stack: EmbeddedStack) -> None:
    with web_client(stack) as client:
        response = client.get("/admin/login/code")

    assert response.headers["location"] == "/admin/login"


def test_logout_ends_every_copy(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with admin_client(stack, admin) as client:
        copied = dict(client.cookies)
        token = csrf_token(client.get("/admin/").text)
        out = client.post("/admin/logout", data={"_csrf_token": token})
        after = client.get("/admin/")
    with web_client(stack) as replay:
        replay.cookies.update(copied)
        replayed = replay.get("/admin/")

    assert out.headers["location"] == "/admin/login"
    assert audit_actions(stack, admin.username)[-1] == "admin.sign_out"
    assert after.headers["location"] == "/admin/login"
    assert replayed.headers["location"] == "/admin/login"


def test_code_signs_in_only_once(stack: EmbeddedStack, admin: AdminLogin) -> None:
    forget_last_code(stack, admin.username)
    code = pyotp.TOTP(admin.secret).now()
    with web_client(stack) as first:
        post_password(first, admin.username, admin.login.password)
        accepted = post_code(first, first.get("/admin/login/code").text, code)
    with web_client(stack) as second:
        post_password(second, admin.username, admin.login.password)
        reused = post_code(second, second.get("/admin/login/code").text, code)

    assert accepted.headers["location"] == "/admin/"
    assert reused.status_code == 401
    with stack.rt.db.platform_session() as session:
        detail = session.scalars(select(PlatformAuditEntry.detail).where(
            PlatformAuditEntry.actor == f"user:{admin.username}",
            PlatformAuditEntry.action == "admin.sign_in_refused")).one()
    assert detail["reason"] == "reused"
