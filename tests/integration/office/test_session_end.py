"""A staff session cookie stops working after sign-out and after a password change, copies included."""

from __future__ import annotations

import httpx

from bolletta.platform.office import password_reset
from bolletta.platform.stack import EmbeddedStack
from tests.integration.office.test_password_reset import LINK, ask_reset
from tests.integration.stack_support import StaffLogin, csrf_token, mails_to, sign_in, web_client


def _signed_in_cookies(stack: EmbeddedStack, login: StaffLogin) -> httpx.Cookies:
    with web_client(stack) as client:
        assert sign_in(client, login.staff.username, login.password).status_code == 303
        assert client.get("/office/").status_code == 200
        return httpx.Cookies(client.cookies)


def _office_status(stack: EmbeddedStack, cookies: httpx.Cookies) -> int:
    with web_client(stack) as client:
        client.cookies = cookies
        return client.get("/office/").status_code


def test_copied_cookie_dead_after_sign_out(stack: EmbeddedStack, operator: StaffLogin) -> None:
    copy = _signed_in_cookies(stack, operator)
    with web_client(stack) as client:
        client.cookies = httpx.Cookies(copy)
        page = client.get("/office/")
        assert client.post("/office/logout", data={"_csrf_token": csrf_token(page.text)}).status_code == 303

    assert _office_status(stack, copy) != 200


def test_sign_in_again_after_sign_out(stack: EmbeddedStack, viewer: StaffLogin) -> None:
    first = _signed_in_cookies(stack, viewer)
    with web_client(stack) as client:
        client.cookies = httpx.Cookies(first)
        page = client.get("/office/")
        client.post("/office/logout", data={"_csrf_token": csrf_token(page.text)})

    second = _signed_in_cookies(stack, viewer)

    assert _office_status(stack, second) == 200
    assert _office_status(stack, first) != 200


def test_password_change_ends_old_sessions(stack: EmbeddedStack, operator: StaffLogin) -> None:
    before = _signed_in_cookies(stack, operator)
    ask_reset(stack, operator.staff.username)
    [mail] = mails_to(stack, f"{operator.staff.username}@example.org")
    token = LINK.search(mail.message.get_content()).group(1)  # type: ignore[union-attr]
    assert password_reset.set_password(token, "una-password-nuova-e-lunga", "127.0.0.1")

    assert _office_status(stack, before) != 200
