"""The Skebby channel against its fake over TLS: sends, status polling, faults, reconciliation."""

from __future__ import annotations

from typing import Any

import pytest

from bolletta.platform import clock
from bolletta.platform.dispatch import sweeper
from bolletta.platform.stack import EmbeddedStack
from tests.fakes.skebby import FakeSkebby
from tests.integration.dispatch.support import (
    Customer,
    job_state,
    later,
    make_job,
    message_rows,
    phone,
    start,
    status_counts,
)
from tests.integration.stack_support import create_test_tenant, new_slug, wait_idle


def skebby_tenant(stack: EmbeddedStack, fake: FakeSkebby, **changes: Any) -> str:
    settings = changes.pop("skebby_settings", {})
    return create_test_tenant(
        stack, new_slug("sk"), notification_emails=[],
        channel_plugins={"sms": "skebby", "email": "outbox", "whatsapp": "outbox"},
        enabled_channels=["skebby", "outbox"], channel_settings={"skebby": fake.settings(**settings)}, **changes,
    )


def sms_job(stack: EmbeddedStack, tenant: str, count: int) -> int:
    return make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(i))]) for i in range(count)])


def test_dispatch_sends_each_sms_once_and_polls_reports(stack: EmbeddedStack, skebby: FakeSkebby) -> None:
    tenant = skebby_tenant(stack, skebby)
    job_id = sms_job(stack, tenant, 5)
    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    rows = message_rows(stack.rt, tenant, job_id)
    assert [message.status for _, message in rows] == ["sent"] * 5
    assert sorted(skebby.accepted) == sorted(message.idempotency_key for _, message in rows)
    assert set(skebby.accepted.values()) == {1}
    assert {order.recipient for order in skebby.orders.values()} == {phone(i) for i in range(5)}
    assert all(order.sender == "Bollette" and order.encoding == "gsm" for order in skebby.orders.values())
    assert rows[0][1].sms_parts == 1 and rows[0][1].sms_encoding == "gsm7"
    assert job_state(stack.rt, tenant, job_id) == "dispatched"

    keys = [message.idempotency_key for _, message in rows]
    for key in keys[:3]:
        skebby.set_status(key, "DLVRD")
    skebby.set_status(keys[3], "ERROR")
    with clock.use_clock(later(minutes=11)):
        sweeper.sweep(stack.rt, tenant)
        sweeper.sweep(stack.rt, tenant)  # a second poll of the same answers changes nothing
    assert status_counts(stack.rt, tenant, job_id) == {"delivered": 3, "failed": 1, "sent": 1}

    with clock.use_clock(later(hours=49)):
        sweeper.sweep(stack.rt, tenant)
    assert status_counts(stack.rt, tenant, job_id) == {"delivered": 3, "failed": 1, "timeout": 1}
    skebby.set_status(keys[0], "ERROR")  # a late, contradictory report never moves a message back
    with clock.use_clock(later(hours=50)):
        sweeper.sweep(stack.rt, tenant)
    assert status_counts(stack.rt, tenant, job_id) == {"delivered": 3, "failed": 1, "timeout": 1}


def test_server_errors_are_retried_then_the_rest_continue(stack: EmbeddedStack, skebby: FakeSkebby) -> None:
    tenant = skebby_tenant(stack, skebby)
    job_id = sms_job(stack, tenant, 4)
    skebby.faults.fail_next(2, 500)
    skebby.faults.fail_next(1, 429)
    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    assert status_counts(stack.rt, tenant, job_id) == {"sent": 4}
    assert len(skebby.accepted) == 4 and set(skebby.accepted.values()) == {1}


@pytest.mark.parametrize("fault", ["malformed", "accept_then_hang", "hang"])
def test_lost_answers_are_reconciled_never_resent_blindly(stack: EmbeddedStack, skebby: FakeSkebby,
                                                          fault: str) -> None:
    tenant = skebby_tenant(stack, skebby)
    job_id = sms_job(stack, tenant, 3)
    if fault == "malformed":
        skebby.faults.malformed_next(1)
    elif fault == "accept_then_hang":
        skebby.faults.accept_then_hang_next(1, 3.0)
    else:
        skebby.faults.hang_next(1, 3.0)
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    assert status_counts(stack.rt, tenant, job_id) == {"sent": 2, "uncertain": 1}

    sweeper.sweep(stack.rt, tenant)
    wait_idle(stack)

    assert status_counts(stack.rt, tenant, job_id) == {"sent": 3}
    assert len(skebby.accepted) == 3 and set(skebby.accepted.values()) == {1}


def test_alias_breaking_agcom_rules_is_refused(stack: EmbeddedStack, skebby: FakeSkebby) -> None:
    tenant = skebby_tenant(stack, skebby, sms_sender="1Bolletta-Energia")
    job_id = sms_job(stack, tenant, 1)
    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    [(_, message)] = message_rows(stack.rt, tenant, job_id)
    assert message.status == "rejected"
    assert "AGCOM" in (message.error or "") and "starts with a digit" in (message.error or "")
    assert not skebby.accepted


def test_session_login_is_used_without_a_token(stack: EmbeddedStack, skebby: FakeSkebby) -> None:
    tenant = skebby_tenant(stack, skebby, skebby_settings={"access_token": "", "user_key": "",
                                                           "username": "acme", "password": "pw-skebby"})
    job_id = sms_job(stack, tenant, 2)
    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    assert status_counts(stack.rt, tenant, job_id) == {"sent": 2}
    assert skebby.logins == 1
