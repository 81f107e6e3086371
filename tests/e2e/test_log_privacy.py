"""Logs of the whole main job, a customer's visit and a payment hold no personal data.

The demo runs with the production JSON log format, every record at info level and above (and the
platform's own loggers at debug level) captured. The captured text must contain no customer's phone
number, e-mail address, fiscal code or name, and no ticket token. The records of work on the demo
tenant carry its slug as a field.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bolletta.platform.demo.run import DemoResult, run_demo
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.logs import configure_logging
from bolletta.platform.settings import load_settings
from tests.e2e.customer import payable_link, visit_and_pay


@dataclass
class LoggedRun:
    """The demo run, its customer's paid visit, and every log line written meanwhile."""

    result: DemoResult
    lines: list[str]


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedRun]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    platform_logger = logging.getLogger("bolletta")
    saved_platform_level = platform_logger.level
    captured = io.StringIO()
    configure_logging(logging.INFO, "json")
    root.handlers[0].setStream(captured)  # type: ignore[attr-defined]
    platform_logger.setLevel(logging.DEBUG)
    data_dir: Path = tmp_path_factory.mktemp("demo")
    settings = load_settings(environ={}, data_dir=str(data_dir), http_port=0, sftp_port=0,
                             tenant_path_prefix=True, cookie_secure=False, log_format="json")
    result = run_demo(settings, smtp_port=0)
    try:
        visit_and_pay(result, payable_link(result))
        yield LoggedRun(result=result, lines=captured.getvalue().splitlines())
    finally:
        result.stack.stop()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        platform_logger.setLevel(saved_platform_level)


def _national(number: str) -> str:
    return number.removeprefix("+39")


def test_logs_were_captured(logged_run: LoggedRun) -> None:
    records = [json.loads(line) for line in logged_run.lines]

    assert len(records) > 10
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)


def test_no_contact_or_identity_in_logs(logged_run: LoggedRun) -> None:
    text = "\n".join(logged_run.lines)

    for customer in logged_run.result.flow.customers:
        assert customer.mobile not in text
        assert _national(customer.mobile) not in text
        assert customer.email.lower() not in text.lower()
        assert customer.fiscal_code not in text
        assert customer.name not in text


def test_no_ticket_token_in_logs(logged_run: LoggedRun) -> None:
    text = "\n".join(logged_run.lines)
    tokens = {link.rsplit("/", 1)[1] for _channel, _to, link in logged_run.result.customer_links}

    assert tokens
    for token in tokens:
        assert token not in text


def test_tenant_work_logged_with_ids(logged_run: LoggedRun) -> None:
    records = [json.loads(line) for line in logged_run.lines]
    actor_records = [record for record in records if record.get("actor")]

    assert actor_records
    parse_records = [record for record in actor_records if record["actor"] == "parse_job"]
    assert parse_records
    assert {record.get("job_id") for record in parse_records} == {logged_run.result.job_id}
    assert {record.get("tenant") for record in parse_records} == {DEMO_SLUG}
