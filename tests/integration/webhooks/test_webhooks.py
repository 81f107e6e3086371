"""Outgoing webhooks against a receiver on 127.0.0.1 that fails, answers late and gets duplicates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC
from sqlalchemy import select

from bolletta.platform.clock import use_clock
from bolletta.platform.db.models.tenant import AuditEntry, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from bolletta.platform.stack import EmbeddedStack, start_stack
from bolletta.platform.webhooks import delivery
from bolletta.platform.webhooks.delivery import defer_due_retries, replay, retry_delay
from bolletta.platform.webhooks.endpoints import WebhookError, add_endpoint
from tests.integration.stack_support import create_test_tenant, new_slug, run_to_test_sent, stack_settings, wait_idle
from tests.integration.webhooks.receiver import Receiver, running_receiver


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    """A stack whose scheduler does not run, so each test decides when retries are queued."""
    running = start_stack(stack_settings(tmp_path_factory.mktemp("data")), create_secret=True, run_scheduler=False)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def _verified(secret: str, header: str, body: bytes) -> bool:
    """Check a signature as a receiver written from the documentation would, with another HMAC library."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    mac = HMAC(secret.encode(), hashes.SHA256())
    mac.update(fields["t"].encode() + b"." + body)
    return mac.finalize().hex() == fields["v1"]


def _deliveries(stack: EmbeddedStack, tenant: str) -> list[WebhookDelivery]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _subscribed(stack: EmbeddedStack, receiver: Receiver) -> tuple[str, str]:
    tenant = create_test_tenant(stack, new_slug("hook"))
    endpoint = add_endpoint(stack.rt, tenant, receiver.url, ["job.state_changed"], added_by="user:admin",
                            allow_http=True)
    return tenant, endpoint.secret


def test_job_events_signed_and_in_order(stack: EmbeddedStack, receiver: Receiver) -> None:
    tenant, secret = _subscribed(stack, receiver)

    run_to_test_sent(stack, tenant)
    wait_idle(stack)

    events = [json.loads(body) for body in receiver.bodies()]
    assert [(event["data"]["from_state"], event["data"]["to_state"]) for event in events] == [
        ("received", "parsing"), ("parsing", "parsed"), ("parsed", "test_sent")]
    assert {event["event"] for event in events} == {"job.state_changed"}
    assert {event["tenant"] for event in events} == {tenant}
    for item in receiver.received:
        assert item.headers["bolletta-event"] == "job.state_changed"
        assert _verified(secret, item.headers["bolletta-signature"], item.body)
        assert not _verified("whsec_altro", item.headers["bolletta-signature"], item.body)
    assert {row.status for row in _deliveries(stack, tenant)} == {"delivered"}


def test_failures_retried_with_backoff_in_order(stack: EmbeddedStack, receiver: Receiver) -> None:
    tenant, _secret = _subscribed(stack, receiver)
    receiver.answers = [500, 503]
    now = [datetime.now(UTC)]

    with use_clock(lambda: now[0]):
        run_to_test_sent(stack, tenant)
        wait_idle(stack)
        assert len(receiver.received) == 1
        first = _deliveries(stack, tenant)[0]
        assert first.attempts == 1
        assert first.next_attempt_at is not None

        now[0] += retry_delay(1) - timedelta(seconds=1)
        assert defer_due_retries(stack.rt) == 0
        now[0] += timedelta(seconds=1)
        assert defer_due_retries(stack.rt) == 1
        wait_idle(stack)
        assert len(receiver.received) == 2

        now[0] += retry_delay(2)
        assert defer_due_retries(stack.rt) == 1
        wait_idle(stack)

    bodies = [json.loads(body) for body in receiver.bodies()]
    assert [body["data"]["to_state"] for body in bodies] == ["parsing", "parsing", "parsing", "parsed", "test_sent"]
    rows = _deliveries(stack, tenant)
    assert [row.attempts for row in rows] == [3, 1, 1]
    with stack.rt.db.tenant_session(tenant) as session:
        codes = list(session.scalars(select(WebhookAttempt.status_code).where(WebhookAttempt.delivery_id == rows[0].id)
                                     .order_by(WebhookAttempt.id)))
    assert codes == [500, 503, 200]


def test_given_up_after_a_day_then_next_sent(stack: EmbeddedStack, receiver: Receiver) -> None:
    tenant, _secret = _subscribed(stack, receiver)
    receiver.reject = lambda body: json.loads(body)["data"]["to_state"] == "parsing"
    now = [datetime.now(UTC)]

    with use_clock(lambda: now[0]):
        run_to_test_sent(stack, tenant)
        wait_idle(stack)
        started = now[0]
        while _deliveries(stack, tenant)[0].status == "pending" and now[0] - started < timedelta(days=2):
            # The later events of the job wait behind the first while it is retried.
            assert [row.status for row in _deliveries(stack, tenant)] == ["pending"] * 3
            now[0] += timedelta(hours=1)
            defer_due_retries(stack.rt)
            wait_idle(stack)

    rows = _deliveries(stack, tenant)
    assert rows[0].status == "failed"
    assert timedelta(days=1) <= now[0] - started < timedelta(days=1, hours=2)
    assert rows[0].attempts > 20
    assert [row.status for row in rows[1:]] == ["delivered", "delivered"]


def test_slow_receiver_gets_same_delivery_again(stack: EmbeddedStack, receiver: Receiver,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    tenant, _secret = _subscribed(stack, receiver)
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.5)
    receiver.delays = [1.5]
    now = [datetime.now(UTC)]

    with use_clock(lambda: now[0]):
        run_to_test_sent(stack, tenant)
        wait_idle(stack)
        now[0] += retry_delay(1)
        defer_due_retries(stack.rt)
        wait_idle(stack)

    first, second = receiver.received[0], receiver.received[1]
    assert first.headers["bolletta-delivery"] == second.headers["bolletta-delivery"]
    assert first.body == second.body
    with stack.rt.db.tenant_session(tenant) as session:
        errors = list(session.scalars(select(WebhookAttempt.error).order_by(WebhookAttempt.id)))
    assert errors[0] == "ReadTimeout"


def test_replay_sends_again_and_is_audited(stack: EmbeddedStack, receiver: Receiver) -> None:
    tenant, _secret = _subscribed(stack, receiver)
    run_to_test_sent(stack, tenant)
    wait_idle(stack)
    first = _deliveries(stack, tenant)[0]

    replay(stack.rt, tenant, first.id, replayed_by="user:admin")
    wait_idle(stack)

    assert receiver.bodies().count(receiver.bodies()[0]) == 2
    with stack.rt.db.tenant_session(tenant) as session:
        actions = list(session.scalars(select(AuditEntry.action)))
    assert "webhook.delivery_replayed" in actions
    with pytest.raises(WebhookError, match="999999 not found"):
        replay(stack.rt, tenant, 999999, replayed_by="user:admin")


def test_secret_stored_encrypted(stack: EmbeddedStack, receiver: Receiver) -> None:
    tenant, secret = _subscribed(stack, receiver)

    with stack.rt.db.tenant_session(tenant) as session:
        stored = session.scalars(select(WebhookEndpoint.secret_sealed)).one()

    assert secret.startswith("whsec_")
    assert secret not in stored


@pytest.mark.parametrize(("url", "events", "message"), [
    ("ftp://example.it/hook", ["job.state_changed"], "use an absolute https:// URL"),
    ("http://example.it/hook", ["job.state_changed"], "use an absolute https:// URL"),
    ("https://example.it/hook", ["bill.deleted"], "choose from job.state_changed"),
    ("https://example.it/hook", [], "choose from job.state_changed"),
])
def test_bad_endpoint_rejected(stack: EmbeddedStack, url: str, events: list[str], message: str) -> None:
    tenant = create_test_tenant(stack, new_slug("hook"))

    with pytest.raises(WebhookError, match=message):
        add_endpoint(stack.rt, tenant, url, events, added_by="user:admin")
