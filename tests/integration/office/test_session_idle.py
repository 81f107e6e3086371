"""Staff session limits over HTTP: a sliding idle timeout and an absolute lifetime from sign-in."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import time_machine

from bolletta.platform import clock
from bolletta.platform.office.staff import SEEN_REFRESH_SECONDS, STAFF_SESSION_LIMIT_SECONDS
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, sign_in, web_client


def _office_at(client: httpx.Client, moment: datetime) -> httpx.Response:
    with time_machine.travel(moment, tick=False):
        return client.get("/office/")


def _signed_in_at(client: httpx.Client, login: StaffLogin, moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        assert sign_in(client, login.staff.username, login.password).status_code == 303


def test_idle_session_ends(stack: EmbeddedStack, operator: StaffLogin) -> None:
    idle = timedelta(seconds=stack.rt.settings.staff_idle_timeout_seconds)
    start = clock.now()
    with web_client(stack) as client:
        _signed_in_at(client, operator, start)
        late = _office_at(client, start + idle + timedelta(seconds=1))

    assert late.status_code == 303
    assert late.headers["location"] == "/office/login"


def test_activity_keeps_session_open(stack: EmbeddedStack, operator: StaffLogin) -> None:
    idle = timedelta(seconds=stack.rt.settings.staff_idle_timeout_seconds)
    step = idle - timedelta(seconds=5)
    start = clock.now()
    with web_client(stack) as client:
        _signed_in_at(client, operator, start)
        statuses = [_office_at(client, start + step * count).status_code for count in range(1, 5)]
        after_pause = _office_at(client, start + step * 4 + idle + timedelta(seconds=1))

    assert step * 4 > idle * 2  # the session outlived two idle limits because it was used
    assert statuses == [200, 200, 200, 200]
    assert after_pause.status_code == 303


def test_recent_activity_not_rewritten(stack: EmbeddedStack, operator: StaffLogin) -> None:
    # A request within SEEN_REFRESH_SECONDS of the last recorded one leaves the session data as it
    # was, so the idle count still runs from the sign-in.
    idle = timedelta(seconds=stack.rt.settings.staff_idle_timeout_seconds)
    start = clock.now()
    with web_client(stack) as client:
        _signed_in_at(client, operator, start)
        soon = _office_at(client, start + timedelta(seconds=SEEN_REFRESH_SECONDS - 10))
        later = _office_at(client, start + idle + timedelta(seconds=1))

    assert soon.status_code == 200
    assert later.status_code == 303


def test_active_session_ends_after_limit(stack: EmbeddedStack, viewer: StaffLogin) -> None:
    idle = timedelta(seconds=stack.rt.settings.staff_idle_timeout_seconds)
    step = idle / 2
    limit = timedelta(seconds=STAFF_SESSION_LIMIT_SECONDS)
    start = clock.now()
    with web_client(stack) as client:
        _signed_in_at(client, viewer, start)
        moment, statuses = start, []
        while moment + step < start + limit:
            moment += step
            statuses.append(_office_at(client, moment).status_code)
        past_limit = _office_at(client, start + limit + timedelta(seconds=1))

    assert statuses and set(statuses) == {200}
    assert past_limit.status_code == 303
    assert past_limit.headers["location"] == "/office/login"


def _session_cookies_set(response: httpx.Response) -> list[str]:
    return [header for header in response.headers.get_list("set-cookie") if header.startswith("bolletta")]


def test_cookie_resent_only_on_refresh(stack: EmbeddedStack, operator: StaffLogin) -> None:
    start = clock.now()
    with web_client(stack) as client:
        _signed_in_at(client, operator, start)
        soon = _office_at(client, start + timedelta(seconds=SEEN_REFRESH_SECONDS - 10))
        later = _office_at(client, start + timedelta(seconds=SEEN_REFRESH_SECONDS + 10))
        right_after = _office_at(client, start + timedelta(seconds=SEEN_REFRESH_SECONDS + 20))

    assert soon.status_code == 200
    assert _session_cookies_set(soon) == []  # nothing in the session changed
    assert later.status_code == 200
    assert len(_session_cookies_set(later)) == 1  # the activity time moved
    assert _session_cookies_set(right_after) == []
