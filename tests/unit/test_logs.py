"""Log context ids, the two formats, token redaction and the actor middleware."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker

from bolletta.platform.logs import LogContextMiddleware, configure_logging, log_context

logger = logging.getLogger("bolletta.test.logs")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def _configure(log_format: str, stream: io.StringIO) -> None:
    configure_logging(logging.INFO, log_format)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


def test_json_record_carries_bound_ids(captured: io.StringIO) -> None:
    _configure("json", captured)

    with log_context(tenant="acme", job_id=12):
        logger.info("job parsed")
    logger.info("outside")

    first, second = (json.loads(line) for line in captured.getvalue().splitlines())
    assert first["message"] == "job parsed"
    assert first["tenant"] == "acme"
    assert first["job_id"] == 12
    assert first["level"] == "INFO"
    assert "tenant" not in second


def test_text_record_appends_ids(captured: io.StringIO) -> None:
    _configure("text", captured)

    with log_context(tenant="acme", ticket_id=7):
        logger.warning("delivery failed")

    assert captured.getvalue().rstrip().endswith("bolletta.test.logs: delivery failed [tenant=acme ticket_id=7]")


def test_ticket_token_redacted_in_access_line(captured: io.StringIO) -> None:
    _configure("text", captured)

    logging.getLogger("bolletta.test.access").info('%s - "%s %s HTTP/%s" %d', "10.0.0.5:4431", "GET",
                                             "/c/acme/t/gyX9qGLvnr6QZFjFUM9Nih", "1.1", 303)

    line = captured.getvalue()
    assert "gyX9qGLvnr6QZFjFUM9Nih" not in line
    assert '"GET /c/acme/t/*** HTTP/1.1" 303' in line


def test_password_reset_token_redacted(captured: io.StringIO) -> None:
    _configure("text", captured)

    logging.getLogger("bolletta.test.access").info('"GET /office/password-reset/%s HTTP/1.1" 200',
                                                   "dDSt9M0yIVsVTLN1xDIzI8LHQpJ3uxEConY0-2ksFXA")

    assert "dDSt9M0y" not in captured.getvalue()
    assert '"GET /office/password-reset/*** HTTP/1.1" 200' in captured.getvalue()


def test_unknown_context_field_rejected() -> None:
    with pytest.raises(ValueError, match="phone"), log_context(phone="+393331234567"):
        pass


def test_unknown_format_rejected() -> None:
    with pytest.raises(ValueError, match="BOLLETTA_LOG_FORMAT"):
        configure_logging(logging.INFO, "xml")


def test_actor_runs_with_its_ids_bound(captured: io.StringIO) -> None:
    _configure("json", captured)
    broker = StubBroker()
    broker.add_middleware(LogContextMiddleware())
    broker.emit_after("process_boot")

    @dramatiq.actor(broker=broker, actor_name="log_context_probe")
    def probe(tenant: str, job_id: int, note: str) -> None:
        logger.info("working on %s", note)

    worker = Worker(broker, worker_threads=1)
    worker.start()
    try:
        probe.send("acme", 31, "qualcosa")
        broker.join(probe.queue_name)
        worker.join()
    finally:
        worker.stop()

    records = [json.loads(line) for line in captured.getvalue().splitlines()]
    work = next(record for record in records if record["message"] == "working on qualcosa")
    assert work["tenant"] == "acme"
    assert work["job_id"] == 31
    assert work["actor"] == "log_context_probe"
    assert "note" not in work


def test_alembic_plugin_setup_silent_migrations_shown() -> None:
    """Importing Alembic logs its plugin set-up; a fresh interpreter shows whether those lines pass."""
    program = (
        "import logging\n"
        "from bolletta.platform.logs import configure_logging\n"
        "configure_logging(logging.INFO)\n"
        "import alembic.command\n"
        "logging.getLogger('alembic.runtime.migration').info('Running upgrade a -> b, test')\n"
    )

    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60,
                               check=True)

    assert "alembic.runtime.plugins" not in completed.stderr
    assert "INFO alembic.runtime.migration: Running upgrade a -> b, test" in completed.stderr
