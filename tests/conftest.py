"""Fixtures every test folder shares: the public samples folder and CI strictness."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def running_in_ci() -> bool:
    """True when ``CI=true``: services and samples must then be present, never skipped."""
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The public samples folder (``BOLLETTA_SAMPLES_DIR``, default ``../shared/samples``)."""
    path = Path(os.environ.get("BOLLETTA_SAMPLES_DIR", REPO_ROOT.parent / "shared" / "samples"))
    if not path.is_dir():
        message = f"samples folder {path} not found; set BOLLETTA_SAMPLES_DIR to the shared samples"
        if running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


def services_pass() -> bool:
    """True in the second pass of ``make test`` (PostgreSQL and Redis)."""
    return os.environ.get("BOLLETTA_TEST_PASS") == "services"


def pytest_configure(config: pytest.Config) -> None:
    """Set the Dramatiq broker before any test imports an actor module.

    Actors bind to the broker that is current when their module loads; without this, an early
    import would bind them to a default RabbitMQ broker.
    """
    from bolletta.platform import workers
    from bolletta.platform.settings import load_settings

    broker_url = os.environ.get("BOLLETTA_TEST_BROKER_URL", "") if services_pass() else ""
    # A namespace of its own keeps this run's messages apart from any other run on the same Redis.
    namespace = f"bolletta-test-{uuid.uuid4().hex[:12]}"
    workers.setup_broker(load_settings(environ={"BOLLETTA_BROKER_URL": broker_url,
                                                "BOLLETTA_BROKER_NAMESPACE": namespace}))
