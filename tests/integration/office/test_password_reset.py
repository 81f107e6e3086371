"""Password reset by e-mail: the link arrives, works once, expires, and the request page reveals nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.office import password_reset
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, csrf_token, mails_to, sign_in, web_client

LINK = re.compile(r"/office/password-reset/([A-Za-z0-9_-]+)")
NEW_PASSWORD = "una-nuova-password-lunga"


def ask_reset(stack: EmbeddedStack, username: str) -> str:
    with web_client(stack) as client:
        page = client.get("/office/password-reset")
        response = client.post("/office/password-reset", data={"_csrf_token": csrf_token(page.text),
                                                                "username": username})
    assert response.status_code == 200
    return response.text


def set_new(stack: EmbeddedStack, token: str, password: str, again: str | None = None) -> int:
    with web_client(stack) as client:
        page = client.get("/office/password-reset")
        form = {"_csrf_token": csrf_token(page.text), "password": password, "password_again": again or password}
        return client.post(f"/office/password-reset/{token}", data=form).status_code


def test_reset_link_sets_a_new_password(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    answer = ask_reset(stack, operator.staff.username)
    [mail] = mails_to(stack, f"{operator.staff.username}@example.org")
    token = LINK.search(mail.message.get_content()).group(1)  # type: ignore[union-attr]

    assert mail.message["Subject"] == "Bolletta Smart: reimposta la password"
    assert set_new(stack, token, "corta") == 400
    assert set_new(stack, token, NEW_PASSWORD, "un'altra-password-lunga") == 400
    assert set_new(stack, token, NEW_PASSWORD) == 200
    assert set_new(stack, token, "ancora-un-altra-password") == 404  # used up
    with web_client(stack) as client:
        assert sign_in(client, operator.staff.username, operator.password).status_code == 401
        assert sign_in(client, operator.staff.username, NEW_PASSWORD).status_code == 303
    with stack.rt.db.tenant_session(tenant) as session:
        assert "staff.password_reset" in session.scalars(select(AuditEntry.action))
    assert "abbiamo inviato un link" in answer


def test_unknown_user_gets_the_same_answer(stack: EmbeddedStack, operator: StaffLogin) -> None:
    known = ask_reset(stack, operator.staff.username)
    unknown = ask_reset(stack, "nessuno.esiste")

    assert known == unknown
    assert mails_to(stack, "nessuno.esiste") == []


def test_link_expires(stack: EmbeddedStack, viewer: StaffLogin) -> None:
    ask_reset(stack, viewer.staff.username)
    [mail] = mails_to(stack, f"{viewer.staff.username}@example.org")
    token = LINK.search(mail.message.get_content()).group(1)  # type: ignore[union-attr]

    with time_machine.travel(clock.now() + password_reset.LINK_LIFETIME + timedelta(seconds=1), tick=False):
        assert set_new(stack, token, NEW_PASSWORD) == 404


def test_made_up_token_is_not_valid(stack: EmbeddedStack) -> None:
    with web_client(stack) as client:
        page = client.get("/office/password-reset/inventato")

    assert page.status_code == 404
    assert "non è più valido" in page.text
