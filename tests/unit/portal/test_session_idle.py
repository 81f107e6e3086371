from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bolletta.platform import clock
from bolletta.platform.office import staff as staff_module
from bolletta.platform.office.staff import current_staff
from bolletta.platform.portal.access import session_ticket_ids

OPENED = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _request(session: dict[str, Any]) -> Any:
    request = SimpleNamespace(session=session, client=SimpleNamespace(host="127.0.0.1"))
    request.set_session = lambda value: setattr(request, "session", value)
    return request


def _runtime(idle_seconds: int = 30 * 60) -> Any:
    return SimpleNamespace(db=None, settings=SimpleNamespace(staff_idle_timeout_seconds=idle_seconds))


def test_customer_session_ends_after_30_idle_minutes() -> None:
    request = _request({"tickets": {"acme": [7, 9]}, "seen": int(OPENED.timestamp())})

    with clock.use_clock(lambda: OPENED + timedelta(minutes=29)):
        assert session_ticket_ids(request, "acme") == [7, 9]
        assert session_ticket_ids(request, "beta") == []
    with clock.use_clock(lambda: OPENED + timedelta(minutes=31)):
        assert session_ticket_ids(request, "acme") == []


def test_staff_session_ends_after_idle_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The account is active and its sessions were never ended, so only the time limits are under test.
    monkeypatch.setattr(staff_module, "_revoked_at", lambda _db, _user_id: (None, True))
    monkeypatch.setattr(staff_module, "rt", lambda: _runtime(30 * 60))
    staff = {"id": 1, "username": "op", "role": "tenant_operator", "tenant": "acme", "name": "Op"}
    idle = _request({"staff": staff, "staff_seen": int(OPENED.timestamp()), "staff_since": OPENED.timestamp()})
    used = _request({"staff": staff, "staff_seen": int(OPENED.timestamp()), "staff_since": OPENED.timestamp()})

    with clock.use_clock(lambda: OPENED + timedelta(minutes=29)):
        found = current_staff(used)
        assert found is not None
        assert found.username == "op"
    assert used.session["staff_seen"] == int((OPENED + timedelta(minutes=29)).timestamp())
    with clock.use_clock(lambda: OPENED + timedelta(minutes=31)):
        assert current_staff(idle) is None
        assert current_staff(used) is not None


def test_staff_session_ends_after_8_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff_module, "_revoked_at", lambda _db, _user_id: (None, True))
    monkeypatch.setattr(staff_module, "rt", lambda: _runtime(30 * 60))
    staff = {"id": 1, "username": "op", "role": "tenant_operator", "tenant": "acme", "name": "Op"}
    seen = OPENED + timedelta(hours=7, minutes=50)
    request = _request({"staff": staff, "staff_seen": int(seen.timestamp()), "staff_since": OPENED.timestamp()})

    with clock.use_clock(lambda: OPENED + timedelta(hours=7, minutes=59)):
        assert current_staff(request) is not None
    with clock.use_clock(lambda: OPENED + timedelta(hours=8, minutes=1)):
        assert current_staff(request) is None


def test_staff_session_without_start_time_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # A cookie made before sessions recorded their start cannot be checked against a sign-out.
    monkeypatch.setattr(staff_module, "_revoked_at", lambda _db, _user_id: (None, True))
    monkeypatch.setattr(staff_module, "rt", lambda: _runtime())
    staff = {"id": 1, "username": "op", "role": "tenant_operator", "tenant": "acme", "name": "Op"}
    request = _request({"staff": staff, "staff_seen": int(OPENED.timestamp())})

    with clock.use_clock(lambda: OPENED + timedelta(minutes=5)):
        assert current_staff(request) is None
