"""The second pass of ``make test``: PostgreSQL (a fresh database per run), Redis and RabbitMQ.

Locally, when either is unreachable, these tests are skipped with a message saying how to run
them; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import dramatiq
import psycopg
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from bolletta.platform.db import migrate
from bolletta.platform.db.database import Database
from bolletta.platform.settings import load_settings
from tests.conftest import running_in_ci, services_pass

HOW_TO_RUN = (
    "start PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379 and RabbitMQ on 127.0.0.1:5672, then run "
    "`make test-services` (or set BOLLETTA_TEST_DATABASE_URL, BOLLETTA_TEST_BROKER_URL and "
    "BOLLETTA_TEST_RABBITMQ_URL)"
)


def _unavailable(message: str) -> None:
    if running_in_ci():
        pytest.fail(f"{message} (CI=true: the services pass must run)")
    pytest.skip(f"{message}; {HOW_TO_RUN}")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def _admin_database_url() -> str:
    """Return the server URL that the tests create their databases on, after checking that it is reachable."""
    if not services_pass():
        _unavailable("not the services pass (BOLLETTA_TEST_PASS=services is unset)")
    admin_url = os.environ.get("BOLLETTA_TEST_DATABASE_URL", "")
    if not admin_url or not _reachable(admin_url, 5432):
        _unavailable(f"PostgreSQL not reachable at {admin_url or 'BOLLETTA_TEST_DATABASE_URL (unset)'}")
    return admin_url


@contextmanager
def _new_database(admin_url: str) -> Iterator[str]:
    """Create an empty database on the server of ``admin_url``, yield its URL, then drop it."""
    name = f"bolletta_test_{uuid.uuid4().hex[:10]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the run.

    Every module of the run shares it, so what one module stores stays for the next. The demo
    tenant is an example: a second demo upload of the same archive reopens the first demo's job
    (see ``open_job``) instead of parsing it again.
    """
    with _new_database(_admin_database_url()) as url:
        yield url


@pytest.fixture(scope="module")
def own_database_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database for one module, dropped after it.

    For a module whose demo job must be parsed by its own stack, whatever the modules before it stored.
    """
    with _new_database(_admin_database_url()) as url:
        yield url


@pytest.fixture(scope="module")
def db(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The run's database with the platform tables migrated. Each module creates the tenants it needs."""
    database = Database(load_settings(environ={}, data_dir=str(tmp_path_factory.mktemp("pg")),
                                      database_url=database_url))
    migrate.upgrade_platform(database)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def broker_url() -> str:
    """URL of the Redis database the broker uses (this run's keys have a namespace of their own)."""
    if not services_pass():
        _unavailable("not the services pass (BOLLETTA_TEST_PASS=services is unset)")
    url = os.environ.get("BOLLETTA_TEST_BROKER_URL", "")
    if not url or not _reachable(url, 6379):
        _unavailable(f"Redis not reachable at {url or 'BOLLETTA_TEST_BROKER_URL (unset)'}")
    redis.Redis.from_url(url).ping()
    return url


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """URL of the RabbitMQ server for the tests that run the workers on it."""
    if not services_pass():
        _unavailable("not the services pass (BOLLETTA_TEST_PASS=services is unset)")
    url = os.environ.get("BOLLETTA_TEST_RABBITMQ_URL", "")
    if not url or not _reachable(url, 5672):
        _unavailable(f"RabbitMQ not reachable at {url or 'BOLLETTA_TEST_RABBITMQ_URL (unset)'}")
    return url


@pytest.fixture(scope="module", autouse=True)
def empty_broker_queues() -> None:
    """Start each module with this run's Redis queues empty.

    A stopping Dramatiq worker hands the messages it had prefetched back to Redis. The next module's
    demo stack uses the same demo tenant and job ids, so it could otherwise run those messages.
    """
    broker = dramatiq.get_broker()
    if not isinstance(broker, RedisBroker):
        return
    keys = list(broker.client.scan_iter(match=f"{broker.namespace}*"))
    if keys:
        broker.client.delete(*keys)
