"""A dispatch batch slower than the sweeper's claim timeout: renewed claims, taken-over messages skipped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Message, Ticket
from bolletta.platform.dispatch import batch, claims, ratelimit, starting, sweeper
from bolletta.platform.stack import EmbeddedStack
from tests.fakes.skebby import FakeSkebby
from tests.integration.dispatch.support import Customer, make_job, phone, start, status_counts
from tests.integration.stack_support import create_test_tenant, held_outbox, new_slug, wait_idle

SHORT_CLAIM_TIMEOUT = timedelta(seconds=3)
"""Claim timeout of the first test, for the sweeper and the batch alike."""
SLOW_RATE = 2
"""Messages per second the first test's tenant may send: 10 messages take about 5 s."""


def skebby_tenant(stack: EmbeddedStack, fake: FakeSkebby, **settings: Any) -> str:
    return create_test_tenant(
        stack, new_slug("cr"), notification_emails=[],
        channel_plugins={"sms": "skebby", "email": "outbox", "whatsapp": "outbox"},
        enabled_channels=["skebby", "outbox"], channel_settings={"skebby": fake.settings(**settings)},
    )


@contextmanager
def sweeping(stack: EmbeddedStack, tenant: str, claim_timeout: timedelta) -> Iterator[list[dict[str, int]]]:
    """Sweep ``tenant`` every 0.1 s in a thread inside the block; yield each round's counts."""
    rounds: list[dict[str, int]] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.1):
            rounds.append(sweeper.sweep(stack.rt, tenant, claim_timeout=claim_timeout))

    with ThreadPoolExecutor(max_workers=1) as pool:
        sweeps = pool.submit(run)
        try:
            yield rounds
        finally:
            stop.set()
        sweeps.result(timeout=30)  # raises what a sweep raised


def assert_each_sent_once(fake: FakeSkebby, count: int) -> None:
    assert len(fake.accepted) == count
    assert {key: n for key, n in fake.accepted.items() if n != 1} == {}


def test_rate_limited_batch_keeps_its_claims(stack: EmbeddedStack, skebby: FakeSkebby,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claims, "CLAIM_TIMEOUT", SHORT_CLAIM_TIMEOUT)
    tenant = skebby_tenant(stack, skebby, max_rate=SLOW_RATE)
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(n))]) for n in range(10)])

    with sweeping(stack, tenant, SHORT_CLAIM_TIMEOUT) as rounds:
        start(stack.rt, tenant, job_id)
        wait_idle(stack)
    wait_idle(stack)  # anything a last sweep queued

    assert max(skebby.accepted_at) - min(skebby.accepted_at) > SHORT_CLAIM_TIMEOUT.total_seconds()
    assert len(rounds) > 20
    assert status_counts(stack.rt, tenant, job_id) == {"sent": 10}
    assert_each_sent_once(skebby, 10)
    assert sum(counts["uncertain"] for counts in rounds) == 0


def test_message_taken_over_is_not_sent_by_batch(stack: EmbeddedStack, skebby: FakeSkebby,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = skebby_tenant(stack, skebby)
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(n))]) for n in range(5)])
    moment = [clock.now()]
    turns = [0]
    wait_turn = ratelimit.wait_turn

    def stalled_turn(channel: Any) -> None:
        """Wait for the turn as usual, but stall 6 minutes before the third send while the sweeper runs."""
        wait_turn(channel)
        turns[0] += 1
        if turns[0] == 3:
            moment[0] += claims.CLAIM_TIMEOUT + timedelta(minutes=1)
            sweeper.sweep(stack.rt, tenant)

    with clock.use_clock(lambda: moment[0]):
        with held_outbox(stack):
            start(stack.rt, tenant, job_id)
            starting.create_tickets(stack.rt, tenant, job_id)
            with stack.rt.db.tenant_session(tenant) as session:
                ids = list(session.scalars(select(Message.id).join(Ticket, Ticket.id == Message.ticket_id)
                                           .where(Ticket.job_id == job_id).order_by(Message.id)))
            monkeypatch.setattr(ratelimit, "wait_turn", stalled_turn)
            outcomes = batch.send_messages(stack.rt, tenant, ids)
            monkeypatch.setattr(ratelimit, "wait_turn", wait_turn)
            # The batch's own broker message, relayed when the block ends, finds nothing left to send.
        wait_idle(stack)

    assert outcomes == {"sent": 2, "skipped": 3}
    assert status_counts(stack.rt, tenant, job_id) == {"sent": 5}
    assert_each_sent_once(skebby, 5)
