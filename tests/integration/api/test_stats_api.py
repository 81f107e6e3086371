"""``GET /api/v1/stats``: the same figures as "Stat. ticket", behind the ``stats:read`` scope."""

from __future__ import annotations

from bolletta.platform.api.tokens import create_token
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import web_client
from tests.integration.stats import dataset
from tests.integration.stats.dataset import EXPECTED_2025


def test_stats_match_the_page_figures(stack: EmbeddedStack, tenant: str) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        data = dataset.build(session)
    token = create_token(stack.rt.db, tenant, "cruscotto", ["stats:read"], created_by="test").token

    with web_client(stack) as client:
        headers = {"Authorization": f"Bearer {token}"}
        year = client.get("/api/v1/stats", params={"year": 2025}, headers=headers)
        quarters = client.get("/api/v1/stats", params={"year": 2025, "group": 3}, headers=headers)
        job = client.get("/api/v1/stats", params={"year": 2025, "job": data.job2}, headers=headers)
        wrong = client.get("/api/v1/stats", params={"year": 1999}, headers=headers)

    assert year.status_code == 200
    body = year.json()
    assert body["total"]["tickets"] == EXPECTED_2025["total"]["tickets"]
    assert body["total"]["viewed_rate"] == 70.0
    assert body["total"]["paid_rate"] == 40.0
    assert body["channels"]["sms"]["viewed_rate"] == 71.43
    assert body["channels"]["whatsapp"]["viewed_rate"] is None
    assert body["channels"]["sms"]["pending"] == 2
    assert body["best_viewed_channel"] == "sms"
    assert [period["total"]["tickets"] for period in body["periods"]][:4] == [11, 3, 1, 0]
    assert {row["filename"]: row["total"]["tickets"] for row in body["jobs"]} == EXPECTED_2025["jobs"]
    assert [period["total"]["tickets"] for period in quarters.json()["periods"]] == [15, 0, 0, 0]
    assert job.json()["total"]["tickets"] == 3
    assert wrong.status_code == 400


def test_stats_need_the_scope(stack: EmbeddedStack, tenant: str) -> None:
    token = create_token(stack.rt.db, tenant, "caricamenti", ["jobs:read"], created_by="test").token

    with web_client(stack) as client:
        response = client.get("/api/v1/stats", headers={"Authorization": f"Bearer {token}"})
        anonymous = client.get("/api/v1/stats")

    assert response.status_code == 403
    assert anonymous.status_code == 401
