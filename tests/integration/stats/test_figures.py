"""Every "Stat. ticket" figure of a hand-computed dataset, on SQLite (the PostgreSQL twin is in tests/services)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from bolletta.platform.db import migrate
from bolletta.platform.db.database import Database
from bolletta.platform.settings import load_settings
from bolletta.platform.stats import figures as stats
from bolletta.platform.stats import rollup
from bolletta.tenants.registry import create_tenant
from tests.integration.stats import checks, dataset


@pytest.fixture
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(load_settings(environ={}, data_dir=str(tmp_path_factory.mktemp("stats")), database_url=""))
    migrate.upgrade_platform(database)
    create_tenant(database, "stats", "Stats Energia")
    yield database
    database.dispose()


def test_every_figure_of_the_year(db: Database) -> None:
    with db.tenant_session("stats") as session:
        dataset.build(session)
        assert rollup.refresh(session) == -1
        checks.check_year(session)


def test_one_job(db: Database) -> None:
    with db.tenant_session("stats") as session:
        data = dataset.build(session)
        rollup.refresh(session)
        checks.check_job(session, data)


def test_incremental_refresh_counts_late_changes(db: Database) -> None:
    with db.tenant_session("stats") as session:
        data = dataset.build(session)
        rollup.refresh(session)
        checks.check_incremental_refresh(session, data)


def test_full_refresh_equals_incremental(db: Database) -> None:
    with db.tenant_session("stats") as session:
        data = dataset.build(session)
        rollup.refresh(session)
        checks.check_incremental_refresh(session, data)
        incremental = stats.year_page(session, 2025).periods
        rollup.refresh(session, full=True)
        full = stats.year_page(session, 2025).periods
    assert [row.figures.total for row in incremental] == [row.figures.total for row in full]


@pytest.mark.parametrize(("numerator", "denominator", "text"), [
    (2684, 29965, "8,96%"), (1, 3, "33,33%"), (2, 3, "66,67%"), (0, 0, "–"), (5, 0, "–"), (3, 3, "100,00%"),
])
def test_percent_format(numerator: int, denominator: int, text: str) -> None:
    assert stats.format_percent(stats.percent(numerator, denominator)) == text


def test_percent_rounds_half_up() -> None:
    assert stats.percent(1, 8) == Decimal("12.50")
    assert stats.percent(1, 400000) == Decimal("0.00")
    assert stats.percent(2, 400000) == Decimal("0.00")
    assert stats.percent(1, 20000) == Decimal("0.01")  # 0.005 rounds up


def test_count_in_italian() -> None:
    assert stats.format_count(29965) == "29.965"
