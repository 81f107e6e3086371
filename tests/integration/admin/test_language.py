"""The console in Italian by default and in English once the admin switches."""

from __future__ import annotations

from bolletta.platform.stack import EmbeddedStack
from tests.integration.admin.console_support import AdminLogin, admin_client
from tests.integration.stack_support import csrf_token, web_client

PAGES = ("/admin/", "/admin/jobs", "/admin/plugins", "/admin/audit", "/admin/users", "/admin/system")


def test_english_reaches_every_console_page(stack: EmbeddedStack, admin: AdminLogin, tenant: str) -> None:
    with admin_client(stack, admin) as client:
        italian = client.get("/admin/")
        token = csrf_token(italian.text)
        switched = client.post("/admin/language", data={"_csrf_token": token, "language": "en",
                                                        "next": "/admin/plugins"})
        pages = {path: client.get(path) for path in (*PAGES, f"/admin/tenants/{tenant}")}

    assert '<html lang="it">' in italian.text
    assert "Aziende" in italian.text
    assert switched.headers["location"] == "/admin/plugins"
    for path, page in pages.items():
        assert page.status_code == 200, path
        assert '<html lang="en">' in page.text, path
        assert "Utilities" in page.text, path


def test_language_switch_stays_in_console(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get("/admin/").text)
        targets = [client.post("/admin/language", data={"_csrf_token": token, "language": "en", "next": target})
                   .headers["location"] for target in ("//evil.example/admin/", "/office/", "https://evil.example/")]
        unknown = client.post("/admin/language", data={"_csrf_token": token, "language": "de", "next": "/admin/"})
        page = client.get("/admin/")

    assert targets == ["/admin/", "/admin/", "/admin/"]
    assert unknown.status_code == 303
    assert '<html lang="en">' in page.text  # German is not offered, so English stays


def test_console_stylesheet_is_served(stack: EmbeddedStack) -> None:
    with web_client(stack) as client:
        login = client.get("/admin/login")
        stylesheet = client.get("/static/admin.css")

    assert '<link rel="stylesheet" href="/static/admin.css">' in login.text
    assert stylesheet.status_code == 200
    assert "text/css" in stylesheet.headers["content-type"]
