"""``among`` on PostgreSQL: ``= ANY(array)`` finds the rows that ``IN`` finds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.orm import Session

from bolletta.platform.db.bulk import among

pytestmark = pytest.mark.services

metadata = MetaData()
items = Table("bulk_lookup_items", metadata, Column("id", Integer, primary_key=True), Column("code", String(20)))


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = create_engine(database_url)
    metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(insert(items), [{"id": number, "code": f"C{number}"} for number in range(1, 2001)])
        yield session
        session.rollback()
    metadata.drop_all(engine)
    engine.dispose()


def test_among_matches_in_list(session: Session) -> None:
    codes = [f"C{number}" for number in range(1, 2001, 3)] + ["missing", "c1", "C1 "]
    ids = list(range(0, 2500, 7))

    by_code = set(session.scalars(select(items.c.id).where(among(session, items.c.code, codes))))
    by_id = set(session.scalars(select(items.c.id).where(among(session, items.c.id, ids))))

    assert by_code == set(session.scalars(select(items.c.id).where(items.c.code.in_(codes))))
    assert by_code == set(range(1, 2001, 3))
    assert by_id == {number for number in ids if 1 <= number <= 2000}


def test_among_empty_values(session: Session) -> None:
    assert session.scalars(select(items.c.id).where(among(session, items.c.id, []))).all() == []


def test_among_is_one_parameter(session: Session) -> None:
    condition = among(session, items.c.id, list(range(1000)))

    compiled = select(items.c.id).where(condition).compile(dialect=session.get_bind().dialect)

    assert len(compiled.params) == 1
