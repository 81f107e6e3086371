"""The tenant admin's webhook page: deliveries per endpoint with their attempts, and an audited replay."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import AuditEntry, WebhookAttempt, WebhookDelivery
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.webhooks.endpoints import add_endpoint
from tests.integration.stack_support import (
    WITHOUT_SMTP,
    StaffLogin,
    create_staff,
    create_test_tenant,
    csrf_token,
    new_slug,
    signed_in_client,
)

CLOSED_PORT_URL = "http://127.0.0.1:9/bolletta"
"""Nothing listens on the discard port, so a replayed delivery fails fast and never leaves the machine."""


def add_deliveries(stack: EmbeddedStack, tenant: str) -> tuple[int, int, int]:
    """Add an endpoint with a failed delivery (two attempts) and a delivered one; return their ids."""
    endpoint = add_endpoint(stack.rt, tenant, CLOSED_PORT_URL, ["job.state_changed"], added_by="test",
                            allow_http=True)
    now = clock.now()
    with stack.rt.db.tenant_session(tenant) as session:
        failed = WebhookDelivery(endpoint_id=endpoint.id, event="job.state_changed", object_key="job:7", body="{}",
                                 status="failed", attempts=2, created_at=now - timedelta(days=1))
        delivered = WebhookDelivery(endpoint_id=endpoint.id, event="job.state_changed", object_key="job:8",
                                    body="{}", status="delivered", attempts=1, created_at=now, delivered_at=now)
        session.add_all([failed, delivered])
        session.flush()
        session.add_all([
            WebhookAttempt(delivery_id=failed.id, at=now - timedelta(days=1), status_code=503, error="",
                           duration_ms=40),
            WebhookAttempt(delivery_id=failed.id, at=now - timedelta(hours=1), status_code=None,
                           error="connection refused by the receiver", duration_ms=3),
            WebhookAttempt(delivery_id=delivered.id, at=now, status_code=204, error="", duration_ms=12),
        ])
        session.commit()
        return endpoint.id, failed.id, delivered.id


def admin_of(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.admin", "tenant_admin", tenant)


def replay_form(client: httpx.Client, delivery_id: int, back: str = "") -> httpx.Response:
    token = csrf_token(client.get("/office/webhooks").text)
    return client.post(f"/office/webhooks/deliveries/{delivery_id}/replay",
                       data={"_csrf_token": token, "back": back})


def test_page_lists_deliveries_with_attempts(stack: EmbeddedStack, tenant: str) -> None:
    endpoint_id, failed_id, delivered_id = add_deliveries(stack, tenant)

    with signed_in_client(stack, admin_of(stack, tenant)) as client:
        page = client.get("/office/webhooks")
        only_failed = client.get("/office/webhooks", params={"endpoint": endpoint_id, "status": "failed"})

    assert page.status_code == 200
    assert CLOSED_PORT_URL in page.text
    assert "job:7" in page.text
    assert "job:8" in page.text
    assert "connection refused by the receiver" in page.text
    assert "<td>503</td>" in page.text
    assert "HTTP 204" in page.text
    assert f"/office/webhooks/deliveries/{failed_id}/replay" in page.text
    assert "Totale risultati: 2" in page.text
    assert "job:7" in only_failed.text
    assert "job:8" not in only_failed.text
    assert f"/office/webhooks/deliveries/{delivered_id}/replay" not in only_failed.text


def test_replay_requeues_and_audits(stack: EmbeddedStack, tenant: str) -> None:
    endpoint_id, failed_id, _ = add_deliveries(stack, tenant)
    admin = admin_of(stack, tenant)

    with signed_in_client(stack, admin) as client:
        response = replay_form(client, failed_id, back=f"endpoint={endpoint_id}&status=failed&next=//evil.example")

    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/office/webhooks?endpoint={endpoint_id}&status=failed&replayed={failed_id}")
    with stack.rt.db.tenant_session(tenant) as session:
        delivery = session.get(WebhookDelivery, failed_id)
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "webhook.delivery_replayed")))
    assert delivery is not None
    assert delivery.status == "pending"
    assert delivery.retry_until is None
    assert len(entries) == 1
    assert entries[0].target == f"webhook_delivery:{failed_id}"
    assert entries[0].user_id == admin.staff.user_id
    assert entries[0].ip == "127.0.0.1"


def test_replay_of_other_tenants_delivery_fails(stack: EmbeddedStack, tenant: str) -> None:
    other = create_test_tenant(stack, new_slug("office"), **WITHOUT_SMTP)
    _, foreign_id, _ = add_deliveries(stack, other)
    with stack.rt.db.tenant_session(tenant) as session:
        assert session.get(WebhookDelivery, foreign_id) is None

    with signed_in_client(stack, admin_of(stack, tenant)) as client:
        response = replay_form(client, foreign_id)

    assert response.status_code == 303
    assert "error=replay" in response.headers["location"]
    with stack.rt.db.tenant_session(other) as session:
        delivery = session.get(WebhookDelivery, foreign_id)
        replays = session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.delivery_replayed"))
    assert delivery is not None
    assert delivery.status == "failed"
    assert replays is None


def test_page_is_for_admins_only(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    _, failed_id, _ = add_deliveries(stack, tenant)

    with signed_in_client(stack, operator) as client:
        page = client.get("/office/webhooks")
        token = csrf_token(client.get("/office/").text)
        replay = client.post(f"/office/webhooks/deliveries/{failed_id}/replay", data={"_csrf_token": token})

    assert page.status_code == 403
    assert replay.status_code == 403
    with stack.rt.db.tenant_session(tenant) as session:
        delivery = session.get(WebhookDelivery, failed_id)
    assert delivery is not None
    assert delivery.status == "failed"


def test_page_without_endpoints(stack: EmbeddedStack, tenant: str) -> None:
    with signed_in_client(stack, admin_of(stack, tenant)) as client:
        page = client.get("/office/webhooks")

    assert page.status_code == 200
    assert "Nessun endpoint" in page.text


def test_admin_adds_and_removes_endpoint(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("wa"), **WITHOUT_SMTP)
    admin = create_staff(stack, f"{tenant}.admin", "tenant_admin", tenant)
    with signed_in_client(stack, admin) as client:
        token = csrf_token(client.get("/office/webhooks").text)
        plain_http = {"url": "http://erp.example/hook", "event": ["job.state_changed"], "_csrf_token": token}
        refused = client.post("/office/webhooks/endpoints", data=plain_http)
        form = {"url": "https://erp.example/hook", "event": ["payment.completed", "job.state_changed"],
                "_csrf_token": token}
        added = client.post("/office/webhooks/endpoints", data=form)
        listed = client.get("/office/webhooks")
        endpoint_id = listed.text.split('<option value="', 1)[1].split('"', 1)[0]
        removed = client.post(f"/office/webhooks/endpoints/{endpoint_id}/remove", data={"_csrf_token": token})
        other_tenant = client.post("/office/webhooks/endpoints/999999/remove", data={"_csrf_token": token})
        after = client.get(f"/office/webhooks?endpoint={endpoint_id}")

    assert refused.headers["location"] == "/office/webhooks?error=endpoint"
    assert added.status_code == 200
    assert added.headers["cache-control"] == "no-store"
    assert '<code class="token">whsec_' in added.text
    assert "whsec_" not in listed.text
    assert "https://erp.example/hook" in listed.text
    assert removed.status_code == 303
    assert other_tenant.status_code == 404
    assert "(rimosso)" in after.text
    with stack.rt.db.tenant_session(tenant) as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("webhook.%"))))
    assert actions == ["webhook.endpoint_added", "webhook.endpoint_removed"]
