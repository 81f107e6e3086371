"""Tenant admins create, list and revoke their API tokens; a token is shown once and works at once."""

from __future__ import annotations

import re

from sqlalchemy import select

from bolletta.platform.api import tokens
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import create_staff, create_test_tenant, csrf_token, new_slug, signed_in_client

TOKEN = re.compile(r'<code class="token">(bst_[^<]+)</code>')


def test_token_created_shown_once_and_revoked(stack: EmbeddedStack, tenant: str) -> None:
    admin = create_staff(stack, f"{tenant}.token", "tenant_admin", tenant)
    with signed_in_client(stack, admin) as client:
        token = csrf_token(client.get("/office/api-tokens").text)
        form = {"name": "ERP fatturazione", "scope": ["stats:read", "jobs:read"], "_csrf_token": token}
        created = client.post("/office/api-tokens", data=form)
        listed = client.get("/office/api-tokens")
        match = TOKEN.search(created.text)
        assert match is not None, "the new token is not shown"
        value = match.group(1)
        stats_before = client.get("/api/v1/stats", headers={"Authorization": f"Bearer {value}"})
        row_id = re.search(r'data-token="(\d+)"', listed.text)
        assert row_id is not None
        revoked = client.post(f"/office/api-tokens/{row_id.group(1)}/revoke", data={"_csrf_token": token})
        stats_after = client.get("/api/v1/stats", headers={"Authorization": f"Bearer {value}"})

    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    assert value not in listed.text
    assert "ERP fatturazione" in listed.text
    assert stats_before.status_code == 200
    assert revoked.headers["location"] == "/office/api-tokens"
    assert stats_after.status_code == 401
    stored = tokens.list_tokens(stack.rt.db, tenant)[-1]
    assert stored.token_sha256 == tokens.token_digest(value)
    with stack.rt.db.tenant_session(tenant) as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("api_token.%"))))
    assert actions[-2:] == ["api_token.create", "api_token.revoke"]


def test_other_tenant_token_not_revoked(stack: EmbeddedStack, tenant: str) -> None:
    other = create_test_tenant(stack, new_slug("tk"))
    foreign = tokens.create_token(stack.rt.db, other, "altro", ["stats:read"], created_by="test")
    admin = create_staff(stack, f"{tenant}.token2", "tenant_admin", tenant)
    with signed_in_client(stack, admin) as client:
        token = csrf_token(client.get("/office/api-tokens").text)
        refused = client.post(f"/office/api-tokens/{foreign.id}/revoke", data={"_csrf_token": token})
        no_scope = client.post("/office/api-tokens", data={"name": "senza ambiti", "_csrf_token": token})

    assert refused.status_code == 404
    assert tokens.list_tokens(stack.rt.db, other)[0].revoked_at is None
    assert no_scope.status_code == 400
