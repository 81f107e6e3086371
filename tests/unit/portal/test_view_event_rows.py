"""The page-view rows sent with COPY on PostgreSQL match the rows inserted on SQLite."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bolletta.platform.portal.view_events import EVENT_COLUMNS, PageView, _event_rows, _event_tuples

AT = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def _view(ticket_id: int, section: str, *, switched: bool = False, language: str = "it") -> PageView:
    return PageView(tenant="prova", ticket_id=ticket_id, bill_id=ticket_id * 10, channel="sms", at=AT,
                    section=section, language=language, switched=switched, first_view=True)


def test_tuples_match_rows() -> None:
    views = [_view(1, "sommario"), _view(1, "costi", switched=True, language="ar"), _view(2, "consumi"),
             _view(3, "dati")]
    newly_viewed = {1, 3}

    expected = [tuple(json.dumps(row[column]) if column == "data" else row[column] for column in EVENT_COLUMNS)
                for row in _event_rows(views, newly_viewed)]

    assert _event_tuples(views, newly_viewed) == expected


def test_first_view_once_per_ticket() -> None:
    kinds = [row[4] for row in _event_tuples([_view(5, "sommario"), _view(5, "costi")], {5})]

    assert kinds == ["viewed", "section_viewed", "section_viewed"]
