"""The CSRF token changes when a staff member signs in, with or without TOTP."""

from __future__ import annotations

import httpx
import pyotp
from sqlalchemy import select

from bolletta.platform.db.models.platform import User
from bolletta.platform.office.two_factor import encrypt_secret
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, csrf_token, web_client

CSRF_COOKIE = "csrf"  # the stack runs without the Secure flag, so without the __Host- prefix


def _sign_out(client: httpx.Client, token: str) -> httpx.Response:
    return client.post("/office/logout", data={"_csrf_token": token})


def test_sign_in_rotates_token(stack: EmbeddedStack, operator: StaffLogin) -> None:
    with web_client(stack) as client:
        login_page = client.get("/office/login")
        before = client.cookies[CSRF_COOKIE]
        old_token = csrf_token(login_page.text)
        signed_in = client.post("/office/login", data={"username": operator.staff.username,
                                                       "password": operator.password, "_csrf_token": old_token})
        after = client.cookies[CSRF_COOKIE]
        with_old_token = _sign_out(client, old_token)
        office = client.get("/office/")
        with_new_token = _sign_out(client, csrf_token(office.text))

    assert signed_in.status_code == 303
    assert after != before
    assert with_old_token.status_code == 403
    assert office.status_code == 200  # the rejected form changed nothing
    assert csrf_token(office.text) != old_token
    assert with_new_token.status_code == 303


def test_failed_sign_in_keeps_token(stack: EmbeddedStack, operator: StaffLogin) -> None:
    with web_client(stack) as client:
        login_page = client.get("/office/login")
        before = client.cookies[CSRF_COOKIE]
        failed = client.post("/office/login", data={"username": operator.staff.username, "password": "wrong",
                                                    "_csrf_token": csrf_token(login_page.text)})

        assert failed.status_code == 401
        assert client.cookies[CSRF_COOKIE] == before


def test_code_step_rotates_token(stack: EmbeddedStack, viewer: StaffLogin) -> None:
    secret = pyotp.random_base32()
    with stack.rt.db.platform_session() as session:
        user = session.scalars(select(User).where(User.username == viewer.staff.username)).one()
        user.totp_secret = encrypt_secret(stack.rt, secret)
        session.commit()
    with web_client(stack) as client:
        login_page = client.get("/office/login")
        client.post("/office/login", data={"username": viewer.staff.username, "password": viewer.password,
                                           "_csrf_token": csrf_token(login_page.text)})
        code_page = client.get("/office/login/code")
        before = client.cookies[CSRF_COOKIE]
        old_token = csrf_token(code_page.text)
        accepted = client.post("/office/login/code", data={"_csrf_token": old_token,
                                                           "code": pyotp.TOTP(secret).now()})
        after = client.cookies[CSRF_COOKIE]
        with_old_token = _sign_out(client, old_token)

    assert accepted.headers["location"] == "/office/"
    assert after != before
    assert with_old_token.status_code == 403
