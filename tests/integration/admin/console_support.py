"""Helpers of the operator console tests: signing in with the TOTP code every platform admin needs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pyotp
from sqlalchemy import update

from bolletta.platform.db.models.platform import User
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    StaffLogin,
    csrf_token,
    web_client,
)

SECRET = re.compile(r'<strong class="totp-secret">([A-Z2-7 ]+)</strong>')


@dataclass(frozen=True)
class AdminLogin:
    """A platform admin created for a test, enrolled in TOTP with ``secret``."""

    login: StaffLogin
    secret: str

    @property
    def username(self) -> str:
        return self.login.staff.username


def post_password(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """Post the console's sign-in form with the CSRF token of a freshly loaded sign-in page."""
    page = client.get("/admin/login")
    return client.post("/admin/login", data={"username": username, "password": password,
                                             "_csrf_token": csrf_token(page.text)})


def post_code(client: httpx.Client, page_text: str, code: str) -> httpx.Response:
    """Post a TOTP code with the CSRF token of the code page ``page_text``."""
    return client.post("/admin/login/code", data={"_csrf_token": csrf_token(page_text), "code": code})


def wrong_code(secret: str) -> str:
    """A well-formed code that the authenticator does not show now."""
    current = pyotp.TOTP(secret).now()
    return "000000" if current != "000000" else "111111"


def enrol(stack: EmbeddedStack, login: StaffLogin) -> AdminLogin:
    """Sign ``login`` in for the first time, enrolling the TOTP secret the code page shows."""
    with web_client(stack) as client:
        post_password(client, login.staff.username, login.password)
        page = client.get("/admin/login/code")
        found = SECRET.search(page.text)
        assert found is not None, f"no TOTP secret on the enrolment page: {page.status_code}"
        secret = found.group(1).replace(" ", "")
        accepted = post_code(client, page.text, pyotp.TOTP(secret).now())
        assert accepted.status_code == 303, f"enrolment of {login.staff.username} returned {accepted.status_code}"
    return AdminLogin(login=login, secret=secret)


def forget_last_code(stack: EmbeddedStack, username: str) -> None:
    """Clear the user's last accepted TOTP step, as if the step of the last code were long past.

    Each code signs in once, and tests sign in many times within one 30-second step.
    """
    with stack.rt.db.platform_session() as session:
        session.execute(update(User).where(User.username == username).values(totp_last_step=None))
        session.commit()


@contextmanager
def admin_client(stack: EmbeddedStack, admin: AdminLogin) -> Iterator[httpx.Client]:
    """An HTTP client signed in to the console as ``admin``, closed on exit."""
    forget_last_code(stack, admin.username)
    with web_client(stack) as client:
        post_password(client, admin.username, admin.login.password)
        page = client.get("/admin/login/code")
        response = post_code(client, page.text, pyotp.TOTP(admin.secret).now())
        assert response.headers.get("location") == "/admin/", f"sign-in of {admin.username}: {response.status_code}"
        yield client


