"""The main job end to end on PostgreSQL (schema per tenant) with the Redis broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import select, text

from bolletta.platform import workers
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.demo.run import DemoResult, run_demo
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.jobs import states
from bolletta.platform.settings import load_settings
from tests.e2e.customer import payable_link, visit_and_pay

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def demo(database_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    settings = load_settings(
        environ={}, data_dir=str(tmp_path_factory.mktemp("demo-pg")), database_url=database_url,
        broker_url=broker_url, http_port=0, sftp_port=0, tenant_path_prefix=True, cookie_secure=False,
    )
    result = run_demo(settings, smtp_port=0)
    yield result
    result.stack.stop()


def test_broker_is_redis(demo: DemoResult) -> None:
    assert isinstance(workers.setup_broker(demo.stack.rt.settings), RedisBroker)


def test_tenant_tables_live_in_their_schema(demo: DemoResult) -> None:
    with demo.stack.rt.db.platform_engine().connect() as connection:
        tables = set(connection.scalars(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'tenant_acme'")))
        platform_tables = set(connection.scalars(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'platform'")))
    assert {"jobs", "bills", "tickets", "messages", "payments"} <= tables
    assert {"tenants", "users", "sftp_accounts"} <= platform_tables
    assert "bills" not in platform_tables


def test_job_dispatched_and_bill_paid(demo: DemoResult) -> None:
    with demo.stack.rt.db.tenant_session(DEMO_SLUG) as session:
        state = session.scalar(select(Job.state).where(Job.id == demo.job_id))
    assert state == states.DISPATCHED

    visit = visit_and_pay(demo, payable_link(demo))

    assert visit.payment.status == "completed"
    assert visit.payment.amount == visit.first_instalment_amount
    assert visit.bill.paid_at is not None
    assert visit.event_kinds[:2] == ["link_opened", "viewed"]
    assert "payment_completed" in visit.event_kinds
