"""TOTP changes after sign-in: a staff member's own reset and removal, a tenant admin's reset of a colleague."""

from __future__ import annotations

import re

import httpx
import msgspec
import pyotp
import pytest
from sqlalchemy import select

from bolletta.platform.db.models.platform import Tenant, User
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.office.two_factor import decrypt_secret, encrypt_secret
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.config import decode_config
from tests.integration.stack_support import (
    StaffLogin,
    create_staff,
    create_test_tenant,
    csrf_token,
    new_slug,
    sign_in,
    web_client,
)

SECRET = re.compile(r'<strong class="totp-secret">([A-Z2-7 ]+)</strong>')


@pytest.fixture
def admin(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.admin", "tenant_admin", tenant)


def require_totp(stack: EmbeddedStack, tenant: str) -> None:
    with stack.rt.db.platform_session() as session:
        row = session.scalars(select(Tenant).where(Tenant.slug == tenant)).one()
        row.settings = msgspec.to_builtins(msgspec.structs.replace(decode_config(row.settings), require_totp=True))
        session.commit()


def enrol(stack: EmbeddedStack, login: StaffLogin) -> str:
    secret = pyotp.random_base32()
    with stack.rt.db.platform_session() as session:
        user = session.scalars(select(User).where(User.username == login.staff.username)).one()
        user.totp_secret = encrypt_secret(stack.rt, secret)
        session.commit()
    return secret


def stored_secret(stack: EmbeddedStack, login: StaffLogin) -> tuple[str | None, bool]:
    with stack.rt.db.platform_session() as session:
        user = session.scalars(select(User).where(User.username == login.staff.username)).one()
        secret = decrypt_secret(stack.rt, user.totp_secret) if user.totp_secret else None
        return secret, user.totp_enrolment_due


def sign_in_with_code(client: httpx.Client, login: StaffLogin, secret: str) -> httpx.Response:
    assert sign_in(client, login.staff.username, login.password).headers["location"] == "/office/login/code"
    page = client.get("/office/login/code")
    return client.post("/office/login/code", data={"_csrf_token": csrf_token(page.text),
                                                   "code": pyotp.TOTP(secret).now()})


def other_code(secret: str) -> str:
    current = pyotp.TOTP(secret).now()
    return "000000" if current != "000000" else "111111"


def audit_actions(stack: EmbeddedStack, tenant: str) -> list[tuple[str, str, str]]:
    with stack.rt.db.tenant_session(tenant) as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.target)
                               .where(AuditEntry.action.like("staff.totp%")).order_by(AuditEntry.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def post_change(client: httpx.Client, password: str, code: str, action: str) -> httpx.Response:
    page = client.get("/office/account/two-factor")
    form = {"_csrf_token": csrf_token(page.text), "password": password, "code": code, "action": action}
    return client.post("/office/account/two-factor", data=form)


def test_own_reset_needs_new_code(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    old = enrol(stack, operator)
    with web_client(stack) as client:
        assert sign_in_with_code(client, operator, old).status_code == 303
        copy = httpx.Cookies(client.cookies)
        shown = post_change(client, operator.password, pyotp.TOTP(old).now(), "reset")
        new = SECRET.search(shown.text).group(1).replace(" ", "")  # type: ignore[union-attr]
        unconfirmed, _ = stored_secret(stack, operator)
        confirmed = client.post("/office/account/two-factor/confirm",
                                data={"_csrf_token": csrf_token(shown.text), "code": pyotp.TOTP(new).now()})

    assert shown.status_code == 200
    assert unconfirmed == old  # the old key works until the new one is confirmed
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/office/login?changed=two-factor"
    assert stored_secret(stack, operator) == (new, False)
    with web_client(stack) as client:
        client.cookies = copy
        assert client.get("/office/").status_code == 303  # every earlier session ended
    with web_client(stack) as client:
        assert sign_in_with_code(client, operator, new).headers["location"] == "/office/"
    assert audit_actions(stack, tenant) == [("staff.totp_reset", f"user:{operator.staff.username}",
                                             f"user:{operator.staff.username}")]


def test_own_reset_wrong_code(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    secret = enrol(stack, operator)
    with web_client(stack) as client:
        sign_in_with_code(client, operator, secret)
        wrong_code = post_change(client, operator.password, other_code(secret), "reset")
        wrong_password = post_change(client, "not the password", pyotp.TOTP(secret).now(), "reset")
        still_in = client.get("/office/")

    assert wrong_code.status_code == 401
    assert "Password o codice errati" in wrong_code.text
    assert SECRET.search(wrong_code.text) is None
    assert wrong_password.status_code == 401
    assert still_in.status_code == 200
    assert stored_secret(stack, operator) == (secret, False)
    assert audit_actions(stack, tenant) == []


def test_confirm_with_wrong_code(stack: EmbeddedStack, operator: StaffLogin) -> None:
    secret = enrol(stack, operator)
    with web_client(stack) as client:
        sign_in_with_code(client, operator, secret)
        shown = post_change(client, operator.password, pyotp.TOTP(secret).now(), "reset")
        new = SECRET.search(shown.text).group(1).replace(" ", "")  # type: ignore[union-attr]
        wrong = client.post("/office/account/two-factor/confirm",
                            data={"_csrf_token": csrf_token(shown.text), "code": other_code(new)})

    assert wrong.status_code == 401
    assert new.replace(" ", "") in wrong.text.replace(" ", "")  # the same key is offered again
    assert stored_secret(stack, operator) == (secret, False)


def test_required_totp_not_removable(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    require_totp(stack, tenant)
    secret = enrol(stack, operator)
    with web_client(stack) as client:
        sign_in_with_code(client, operator, secret)
        page = client.get("/office/account/two-factor")
        removal = post_change(client, operator.password, pyotp.TOTP(secret).now(), "remove")

    assert 'value="remove"' not in page.text
    assert removal.status_code == 409
    assert "non rimuoverla" in removal.text
    assert stored_secret(stack, operator) == (secret, False)
    assert audit_actions(stack, tenant) == []


def test_optional_totp_removed(stack: EmbeddedStack, tenant: str, viewer: StaffLogin) -> None:
    secret = enrol(stack, viewer)
    with web_client(stack) as client:
        sign_in_with_code(client, viewer, secret)
        removal = post_change(client, viewer.password, pyotp.TOTP(secret).now(), "remove")
        after = client.get("/office/")
        login_page = client.get(removal.headers["location"])

    assert removal.headers["location"] == "/office/login?changed=two-factor"
    assert "tutte le sessioni sono terminate. Accedi di nuovo." in login_page.text
    assert after.status_code == 303
    assert stored_secret(stack, viewer) == (None, False)
    assert audit_actions(stack, tenant) == [("staff.totp_remove", f"user:{viewer.staff.username}",
                                             f"user:{viewer.staff.username}")]
    with web_client(stack) as client:
        assert sign_in(client, viewer.staff.username, viewer.password).headers["location"] == "/office/"


def test_admin_reset_forces_enrolment(stack: EmbeddedStack, tenant: str, admin: StaffLogin,
                                      operator: StaffLogin) -> None:
    secret = enrol(stack, operator)
    with web_client(stack) as colleague:
        sign_in_with_code(colleague, operator, secret)
        with web_client(stack) as client:
            assert sign_in(client, admin.staff.username, admin.password).status_code == 303
            listing = client.get("/office/staff")
            reset = client.post(f"/office/staff/{operator.staff.user_id}/two-factor/reset",
                                data={"_csrf_token": csrf_token(listing.text)})
            after = client.get(reset.headers["location"])
        colleague_after = colleague.get("/office/")

    assert listing.status_code == 200
    assert operator.staff.username in listing.text
    assert reset.status_code == 303
    assert operator.staff.username in after.text
    assert colleague_after.status_code == 303  # the colleague's session ended
    assert stored_secret(stack, operator) == (None, True)
    assert audit_actions(stack, tenant) == [("staff.totp_reset", f"user:{admin.staff.username}",
                                             f"user:{operator.staff.username}")]
    with web_client(stack) as client:
        step = sign_in(client, operator.staff.username, operator.password)
        enrol_page = client.get("/office/login/code")
    assert step.headers["location"] == "/office/login/code"  # the tenant does not require TOTP, yet it is asked
    assert SECRET.search(enrol_page.text) is not None


def test_admin_reset_other_tenant(stack: EmbeddedStack, admin: StaffLogin) -> None:
    other_tenant = create_test_tenant(stack, new_slug("altro"))
    stranger = create_staff(stack, f"{other_tenant}.operatore", "tenant_operator", other_tenant)
    secret = enrol(stack, stranger)
    with web_client(stack) as client:
        sign_in(client, admin.staff.username, admin.password)
        listing = client.get("/office/staff")
        response = client.post(f"/office/staff/{stranger.staff.user_id}/two-factor/reset",
                               data={"_csrf_token": csrf_token(listing.text)})

    assert response.status_code == 404
    assert stranger.staff.username not in listing.text
    assert stored_secret(stack, stranger) == (secret, False)


def test_operator_cannot_reset_colleague(stack: EmbeddedStack, operator: StaffLogin, viewer: StaffLogin) -> None:
    secret = enrol(stack, viewer)
    with web_client(stack) as client:
        sign_in(client, operator.staff.username, operator.password)
        page = client.get("/office/")
        listing = client.get("/office/staff")
        response = client.post(f"/office/staff/{viewer.staff.user_id}/two-factor/reset",
                               data={"_csrf_token": csrf_token(page.text)})

    assert listing.status_code == 403
    assert response.status_code == 403
    assert stored_secret(stack, viewer) == (secret, False)


def test_admin_cannot_reset_self(stack: EmbeddedStack, admin: StaffLogin) -> None:
    with web_client(stack) as client:
        sign_in(client, admin.staff.username, admin.password)
        listing = client.get("/office/staff")
        response = client.post(f"/office/staff/{admin.staff.user_id}/two-factor/reset",
                               data={"_csrf_token": csrf_token(listing.text)})
        after = client.get(response.headers["location"])

    assert response.headers["location"] == "/office/staff?error=self"
    assert "pagina del tuo account" in after.text
    assert stored_secret(stack, admin) == (None, False)


def test_account_page_languages(stack: EmbeddedStack, viewer: StaffLogin) -> None:
    with web_client(stack) as client:
        sign_in(client, viewer.staff.username, viewer.password)
        italian = client.get("/office/account/two-factor")
        client.post("/office/language", data={"_csrf_token": csrf_token(italian.text), "language": "en",
                                              "next": "/office/account/two-factor"})
        english = client.get("/office/account/two-factor")

    assert "Autenticazione a due fattori" in italian.text
    assert "autenticazione a due fattori è disattivata." in italian.text
    assert "Two-factor authentication is off." in english.text
