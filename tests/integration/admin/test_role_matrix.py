"""Every ``/admin`` route of the application, for every role: only platform admins get in.

The routes are read from the application itself, so a route added later is checked without editing
this file. A new path parameter needs a value in :data:`PARAMETER_VALUES`.
"""

from __future__ import annotations

import re

import httpx
from litestar import Litestar

from bolletta.platform.app import create_litestar
from bolletta.platform.stack import EmbeddedStack
from tests.integration.admin.console_support import AdminLogin, admin_client
from tests.integration.stack_support import StaffLogin, csrf_token, signed_in_client, web_client

PUBLIC = {("GET", "/admin/login"), ("POST", "/admin/login"), ("GET", "/admin/login/code"),
          ("POST", "/admin/login/code"), ("POST", "/admin/logout")}
"""The sign-in steps and sign-out, which work without a session."""

PARAMETER = re.compile(r"\{(\w+):\w+\}")
PARAMETER_VALUES = {"plugin_id": "outbox", "kind": "channel", "job_id": "999999", "action": "pause",
                    "user_id": "999999", "draft_id": "999999", "step": "company", "section": "company",
                    "version": "999999", "font_file": "source-sans.woff2", "image": "logo", "name": "condiviso"}
"""Values for path parameters; ``slug`` is the test's tenant."""
GATEWAY_ID = "sandbox"
"""The ``plugin_id`` of gateway routes."""

ADMITTED_POSTS = {303, 400, 404}
"""A platform admin's POST with an empty form: redirected after acting, refused as invalid, or no such job."""


def admin_routes(app: Litestar) -> list[tuple[str, str]]:
    """Every (method, path template) the application serves under ``/admin``."""
    routes = []
    for route in app.routes:
        if route.path == "/admin" or route.path.startswith("/admin/"):
            routes += [(method, route.path) for method in sorted(route.methods - {"OPTIONS", "HEAD"})]
    return routes


def concrete(path: str, tenant: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name == "slug" or name in PARAMETER_VALUES, f"add a value for path parameter {name!r} of {path}"
        if name == "slug":
            return tenant
        if name == "plugin_id" and "/gateways/" in path:
            return GATEWAY_ID
        return PARAMETER_VALUES[name]
    return PARAMETER.sub(value, path)


def call(client: httpx.Client, method: str, path: str, token: str) -> httpx.Response:
    return client.get(path) if method == "GET" else client.post(path, data={"_csrf_token": token})


def test_routes_are_found(stack: EmbeddedStack) -> None:
    routes = admin_routes(create_litestar(stack.rt))

    assert ("GET", "/admin/tenants") in routes
    assert ("GET", "/admin/system") in routes
    assert set(routes) >= PUBLIC, PUBLIC - set(routes)


def test_every_admin_route_for_every_role(stack: EmbeddedStack, tenant: str, admin: AdminLogin,
                                          tenant_staff: dict[str, StaffLogin]) -> None:
    routes = admin_routes(create_litestar(stack.rt))
    guarded = [(method, path) for method, path in routes if (method, path) not in PUBLIC]
    wrong: list[str] = []

    with web_client(stack) as anonymous:
        token = csrf_token(anonymous.get("/admin/login").text)
        for method, template in guarded:
            response = call(anonymous, method, concrete(template, tenant), token)
            if response.status_code != 303 or response.headers.get("location") != "/admin/login":
                wrong.append(f"anonymous {method} {template}: {response.status_code}")

    for role, login in tenant_staff.items():
        with signed_in_client(stack, login) as client:
            token = csrf_token(client.get("/office/").text)
            for method, template in guarded:
                response = call(client, method, concrete(template, tenant), token)
                if response.status_code != 403:
                    wrong.append(f"{role} {method} {template}: {response.status_code}")

    with admin_client(stack, admin) as client:
        token = csrf_token(client.get("/admin/").text)
        for method, template in guarded:
            response = call(client, method, concrete(template, tenant), token)
            allowed = ADMITTED_POSTS if method == "POST" else {200}
            if method == "GET" and "{draft_id" in template:
                allowed = {404}  # the draft of PARAMETER_VALUES does not exist; the guard let the admin through
            if method == "GET" and template.endswith("/uploads/{image:str}"):
                allowed = {404}  # the test's tenant has no logo; the guard let the admin through
            if method == "GET" and "{name:str}" in template:
                allowed = {404}  # no shared account has the name of PARAMETER_VALUES; the guard let the admin through
            if response.status_code not in allowed:
                wrong.append(f"platform_admin {method} {template}: {response.status_code}")

    assert not wrong, "routes answering the wrong status:\n" + "\n".join(wrong)
