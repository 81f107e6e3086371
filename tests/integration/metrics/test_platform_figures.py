"""``/metrics`` after a real job: SMS through the fake Skebby gateway, a sandbox payment, the task queue."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bolletta.platform import clock, metrics, tasks
from bolletta.platform.db.models.tenant import Bill, Job, Ticket
from bolletta.platform.dispatch import sweeper
from bolletta.platform.jobs import approval
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.tickets.tokens import token_hash
from tests.fakes.skebby import FakeSkebby
from tests.integration.dispatch.support import ADMIN, later
from tests.integration.stack_support import (
    LINK_PATTERN,
    create_test_tenant,
    held_outbox,
    run_to_test_sent,
    running_stack,
    wait_idle,
)

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')

Samples = dict[str, list[tuple[dict[str, str], float]]]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


@pytest.fixture(scope="module")
def skebby() -> Iterator[FakeSkebby]:
    with FakeSkebby() as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture(autouse=True)
def fresh_readings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read the database on every scrape, so one test's scrapes see what it just changed."""
    monkeypatch.setattr(metrics, "CACHE_SECONDS", -1.0)


@pytest.fixture(scope="module")
def dispatched(stack: EmbeddedStack, skebby: FakeSkebby) -> tuple[str, int]:
    """A demo job sent by SMS through the fake Skebby: its first send refused, a later one reported failed."""
    tenant = create_test_tenant(
        stack, "figure", notification_emails=[], test_batch_size=1,
        channel_plugins={"sms": "skebby", "email": "outbox", "whatsapp": "outbox"},
        enabled_channels=["skebby", "outbox"], channel_settings={"skebby": skebby.settings()},
    )
    job_id = run_to_test_sent(stack, tenant)
    approval.approve(stack.rt, tenant, job_id, ADMIN)
    skebby.faults.fail_next(1, 400)
    approval.start_dispatch(stack.rt, tenant, job_id, ADMIN)
    wait_idle(stack)
    with stack.rt.db.tenant_session(tenant) as session:
        assert session.get_one(Job, job_id).state == "dispatched"
    skebby.set_status(sorted(skebby.accepted)[-1], "ERROR")
    with clock.use_clock(later(minutes=11)):
        sweeper.sweep(stack.rt, tenant)
    return tenant, job_id


def _samples(stack: EmbeddedStack) -> Samples:
    response = httpx.get(f"{stack.base_url}/metrics")
    assert response.status_code == 200, response.text
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    matches = [value for sample_labels, value in samples.get(name, []) if labels.items() <= sample_labels.items()]
    assert len(matches) == 1, f"expected one sample of {name} with {labels}, got: {samples.get(name)}"
    return matches[0]


def test_sms_counters_match_gateway_log(
    stack: EmbeddedStack, skebby: FakeSkebby, dispatched: tuple[str, int],
) -> None:
    tenant, _job_id = dispatched
    samples = _samples(stack)
    sms = {"tenant": tenant, "channel": "sms", "provider": "skebby"}

    assert set(skebby.accepted.values()) == {1}
    assert _value(samples, "bolletta_messages_sent_total", **sms) == len(skebby.accepted) > 1
    assert _value(samples, "bolletta_messages_failed_total", **sms, status="rejected") == 1
    assert _value(samples, "bolletta_messages_failed_total", **sms, status="failed") == 1
    assert _value(samples, "bolletta_messages", **sms, status="failed") == 1
    assert _value(samples, "bolletta_messages", **sms, status="sent") == len(skebby.accepted) - 1
    email = [labels for labels, _ in samples["bolletta_messages_sent_total"]
             if labels["tenant"] == tenant and labels["channel"] == "email"]
    assert email == [{"tenant": tenant, "channel": "email", "provider": "outbox"}]


def test_bills_and_job_durations(stack: EmbeddedStack, dispatched: tuple[str, int]) -> None:
    tenant, _job_id = dispatched
    with stack.rt.db.tenant_session(tenant) as session:
        bills = session.scalar(select(func.count(Bill.id)))
    samples = _samples(stack)

    assert _value(samples, "bolletta_bills_parsed_total", tenant=tenant) == bills > 0
    assert _value(samples, "bolletta_bills_rejected_total", tenant=tenant) == 0
    for stage in ("parse", "dispatch", "total"):
        assert _value(samples, "bolletta_job_duration_seconds_count", tenant=tenant, stage=stage) == 1
        assert _value(samples, "bolletta_job_duration_seconds_bucket", tenant=tenant, stage=stage, le="+Inf") == 1
    parse = _value(samples, "bolletta_job_duration_seconds_sum", tenant=tenant, stage="parse")
    total = _value(samples, "bolletta_job_duration_seconds_sum", tenant=tenant, stage="total")
    assert 0 <= parse <= total


def test_payment_counted_by_gateway_status(
    stack: EmbeddedStack, skebby: FakeSkebby, dispatched: tuple[str, int],
) -> None:
    tenant, _job_id = dispatched
    links = [match.group(0) for order in skebby.orders.values() if not order.text.startswith("[TEST]")
             for match in [LINK_PATTERN.search(order.text)] if match]
    link = next((link for link in links if _payable(stack, tenant, link)), None)
    assert link is not None, f"none of the {len(links)} links in the fake gateway's log leads to a payable bill"
    before = _samples(stack)
    assert not [labels for labels, _ in before.get("bolletta_payments", []) if labels["tenant"] == tenant]

    _pay_with_sandbox(stack, tenant, link)

    samples = _samples(stack)
    assert _value(samples, "bolletta_payments", tenant=tenant, gateway="sandbox", status="completed") == 1
    assert [labels["status"] for labels, _ in samples["bolletta_payments"] if labels["tenant"] == tenant] == [
        "completed"]


def test_queue_depth_follows_outbox(stack: EmbeddedStack, dispatched: tuple[str, int]) -> None:
    tenant, _job_id = dispatched
    idle = _samples(stack)
    assert _value(idle, "bolletta_queue_tasks", tenant=tenant, queue="default", state="waiting") == 0
    assert _value(idle, "bolletta_queue_tasks", tenant=tenant, queue="default", state="queued") == 0
    assert _value(idle, "bolletta_queue_oldest_task_age_seconds", tenant=tenant, queue="default") == 0
    assert _value(idle, "bolletta_broker_queue_messages", broker="memory", queue="default", state="ready") == 0

    with held_outbox(stack):
        with stack.rt.db.tenant_session(tenant) as session:
            tasks.defer(session, "notify_job", tenant, _job_id, "dispatched")
            tasks.defer(session, "notify_job", tenant, _job_id, "dispatched")
            session.commit()
        with clock.use_clock(later(seconds=90)):
            held = _samples(stack)
    wait_idle(stack)

    assert _value(held, "bolletta_queue_tasks", tenant=tenant, queue="default", state="waiting") == 2
    assert _value(held, "bolletta_queue_actor_tasks", tenant=tenant, actor="notify_job", state="waiting") == 2
    assert 90 <= _value(held, "bolletta_queue_oldest_task_age_seconds", tenant=tenant, queue="default") < 120
    after = _samples(stack)
    assert _value(after, "bolletta_queue_tasks", tenant=tenant, queue="default", state="waiting") == 0


def _payable(stack: EmbeddedStack, tenant: str, link: str) -> bool:
    """Whether the link's bill can be paid online in one go."""
    token = link.rsplit("/", 1)[1]
    with stack.rt.db.tenant_session(tenant) as session:
        bill = session.scalar(select(Bill).join(Ticket, Ticket.bill_id == Bill.id)
                              .where(Ticket.token_hash == token_hash(stack.rt.ticket_key, token)))
        return (bill is not None and bill.payable_online and bill.paid_at is None and bill.due_date is not None
                and len(bill.instalments) <= 1)


def _pay_with_sandbox(stack: EmbeddedStack, tenant: str, link: str) -> None:
    with httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=30) as client:
        opened = client.get(httpx.URL(link).path)
        assert opened.status_code == 303, opened.text
        summary_path = opened.headers["location"]
        summary = client.get(summary_path)
        csrf = CSRF_FIELD.search(summary.text)
        assert summary.status_code == 200, f"summary page answered HTTP {summary.status_code}"
        assert csrf is not None, "the summary page has no payment form"
        bill_path = summary_path.rsplit("/", 1)[0]
        pay = client.post(f"{bill_path}/paga", data={"gateway": "sandbox", "_csrf_token": csrf.group(1)})
        assert pay.status_code == 303, pay.text
        sandbox_path = httpx.URL(pay.headers["location"]).path
        assert client.get(sandbox_path).status_code == 200
        confirm = client.post(sandbox_path, data={"outcome": "pay", "_csrf_token": csrf.group(1)})
        assert confirm.status_code == 303, confirm.text
    public_id = bill_path.rsplit("/", 1)[1]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with stack.rt.db.tenant_session(tenant) as session:
            if session.scalar(select(Bill.paid_at).where(Bill.public_id == public_id)) is not None:
                return
        time.sleep(0.1)
    raise AssertionError(f"bill {public_id} was not marked paid within 30 s of the sandbox payment")

