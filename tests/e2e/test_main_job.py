"""The main job end to end on the embedded default: SQLite files and the in-process worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import Job, JobTransition
from bolletta.platform.demo.run import DemoResult, run_demo
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.i18n import formatting
from bolletta.platform.jobs import states
from bolletta.platform.settings import load_settings
from tests.e2e.customer import payable_link, visit_and_pay


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    data_dir: Path = tmp_path_factory.mktemp("demo")
    settings = load_settings(environ={}, data_dir=str(data_dir), http_port=0, sftp_port=0,
                             tenant_path_prefix=True, cookie_secure=False)
    result = run_demo(settings, smtp_port=0)
    yield result
    result.stack.stop()


def test_job_reaches_dispatched_through_every_state(demo: DemoResult) -> None:
    with demo.stack.rt.db.tenant_session(DEMO_SLUG) as session:
        job = session.get_one(Job, demo.job_id)
        path = [row.to_state for row in session.scalars(
            select(JobTransition).where(JobTransition.job_id == job.id).order_by(JobTransition.id))]
    assert job.state == states.DISPATCHED
    assert path == [states.RECEIVED, states.PARSING, states.PARSED, states.TEST_SENT, states.APPROVED,
                    states.DISPATCHING, states.DISPATCHED]
    assert job.bills_accepted == len(demo.flow.document_numbers)
    assert job.approved_by == demo.operator_username


def test_every_customer_got_a_link(demo: DemoResult) -> None:
    emails = {link for channel, _to, link in demo.customer_links if channel == "email"}
    sms = {link for channel, _to, link in demo.customer_links if channel == "sms"}
    assert len(emails) == len(demo.flow.document_numbers)
    assert len(sms) == len(demo.flow.document_numbers)
    assert all(link.startswith(f"{demo.stack.base_url}/c/{DEMO_SLUG}/t/") for link in emails | sms)


def test_mail_catcher_received_html_and_text(demo: DemoResult) -> None:
    assert demo.stack.catcher is not None
    customer_mails = [m for m in demo.stack.catcher.messages if "bolletta" in str(m.message["Subject"])
                      and "[TEST]" not in str(m.message["Subject"])]
    assert customer_mails
    message = customer_mails[0].message
    assert message.get_body(preferencelist=("html",)) is not None
    assert message.get_body(preferencelist=("plain",)) is not None


def test_customer_views_and_pays_a_bill(demo: DemoResult) -> None:
    visit = visit_and_pay(demo, payable_link(demo))

    assert formatting.money(visit.first_instalment_amount, visit.bill.currency) in visit.summary_html
    assert visit.payment.status == "completed"
    assert visit.payment.amount == visit.first_instalment_amount
    assert visit.ticket.first_viewed_at is not None
    assert visit.event_kinds[:3] == ["link_opened", "viewed", "section_viewed"]
    assert "payment_started" in visit.event_kinds
    assert "payment_completed" in visit.event_kinds
    assert visit.bill.paid_at is not None
    assert "Pagamento in verifica" not in visit.paid_html
