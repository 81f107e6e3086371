"""Dispatch through a platform shared account: its settings, the tenant's untouched, usage counted once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bolletta.channels.skebby import SkebbyChannel
from bolletta.platform import clock
from bolletta.platform.dispatch import shared_accounts
from bolletta.platform.dispatch.channels import channel_for
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.tickets import actions
from bolletta.tenants.registry import get_tenant, tenant_config
from tests.fakes.channel_server import LoopbackCA
from tests.fakes.skebby import FakeSkebby
from tests.integration.dispatch.support import ADMIN, Customer, make_job, message_rows, phone, start
from tests.integration.stack_support import create_test_tenant, new_slug, wait_idle


@pytest.fixture
def shared_skebby(test_ca: LoopbackCA) -> Iterator[FakeSkebby]:
    """The platform's own Skebby account, with credentials of its own."""
    with FakeSkebby(test_ca, user_key="UK-platform", access_token="AT-platform") as fake:
        yield fake  # type: ignore[misc]


def shared_tenant(stack: EmbeddedStack, own: FakeSkebby, account: str) -> str:
    return create_test_tenant(
        stack, new_slug("sa"), notification_emails=[],
        channel_plugins={"sms": "skebby", "email": "outbox", "whatsapp": "outbox"},
        enabled_channels=["skebby", "outbox"], channel_settings={"skebby": own.settings()},
        channel_accounts={"sms": account},
    )


def test_shared_account_sends_counted_once(
        stack: EmbeddedStack, skebby: FakeSkebby, shared_skebby: FakeSkebby) -> None:
    account = new_slug("piattaforma-sms")
    shared_accounts.save_account(stack.rt, account, "skebby", shared_skebby.settings(),
                                 SkebbyChannel.secret_fields)
    tenant = shared_tenant(stack, skebby, account)
    own_before = tenant_config(get_tenant(stack.rt.db, tenant)).channel_settings
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(i))]) for i in range(4)])
    shared_skebby.faults.fail_next(1, 500)  # the batch stops after a refusal and is retried
    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    rows = message_rows(stack.rt, tenant, job_id)
    assert [message.status for _, message in rows] == ["sent"] * 4
    assert skebby.orders == {}  # the tenant's own account sent nothing
    assert {order.recipient for order in shared_skebby.orders.values()} == {phone(i) for i in range(4)}
    # The platform's credentials (the fake refuses any other), the tenant's own SMS alias.
    assert {order.sender for order in shared_skebby.orders.values()} == {"Bollette"}
    assert tenant_config(get_tenant(stack.rt.db, tenant)).channel_settings == own_before
    usage = [(row.tenant, row.month, row.kind, row.count) for row in shared_accounts.usage(stack.rt, account)]
    assert usage == [(tenant, clock.now().strftime("%Y-%m"), "sms", 4)]


def test_single_resend_is_counted(stack: EmbeddedStack, skebby: FakeSkebby, shared_skebby: FakeSkebby) -> None:
    account = new_slug("piattaforma-uno")
    shared_accounts.save_account(stack.rt, account, "skebby", shared_skebby.settings(), SkebbyChannel.secret_fields)
    tenant = shared_tenant(stack, skebby, account)
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(7))])])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    [(ticket, _message)] = message_rows(stack.rt, tenant, job_id)

    actions.resend(stack.rt, tenant, ticket.id, ADMIN)  # sent one by one, not in a batch
    wait_idle(stack)

    assert len(shared_skebby.orders) == 2
    assert skebby.orders == {}
    assert [row.count for row in shared_accounts.usage(stack.rt, account)] == [2]


def test_shared_account_missing_or_mismatched(stack: EmbeddedStack, skebby: FakeSkebby) -> None:
    tenant = shared_tenant(stack, skebby, "mai-creato")
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    with pytest.raises(ConfigurationError, match="'mai-creato' chosen for sms messages does not exist"):
        channel_for(stack.rt, tenant, config, "sms")

    account = new_slug("posta")
    shared_accounts.save_account(stack.rt, account, "outbox", {}, ())
    tenant = shared_tenant(stack, skebby, account)
    with pytest.raises(ConfigurationError, match="set the sms plugin to 'outbox'"):
        channel_for(stack.rt, tenant, tenant_config(get_tenant(stack.rt.db, tenant)), "sms")
    with pytest.raises(ConfigurationError, match="not valid"):
        shared_accounts.save_account(stack.rt, "Con Spazi", "outbox", {}, ())


def test_concurrent_counting_on_sqlite_loses_nothing(stack: EmbeddedStack) -> None:
    account = new_slug("contatore")
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        for _ in range(20):
            shared_accounts.record_sent(stack.rt, "acme", {(account, "email"): 1, (account, "sms"): 2})

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {row.kind: row.count for row in shared_accounts.usage(stack.rt, account)} == {"email": 80, "sms": 160}
