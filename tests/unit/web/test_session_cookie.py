"""The session cookie backend's cache of decrypted cookies: it must accept nothing decryption would refuse."""

from __future__ import annotations

import os
from typing import Any

import pytest
import time_machine
from litestar import Litestar, Request, get
from litestar.testing import TestClient

from bolletta.platform.web import session_cookie
from bolletta.platform.web.session_cookie import ChangedOnlyCookieConfig, ChangedOnlySessionBackend

MAX_AGE = 600


@get("/set", sync_to_thread=False)
def set_value(request: Request[Any, Any, Any], value: str) -> dict[str, Any]:
    request.session["value"] = value
    return dict(request.session)


@get("/read", sync_to_thread=False)
def read(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return dict(request.session)


@get("/scribble", sync_to_thread=False)
def scribble(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Change the loaded session in place and then put it back: nothing must leak to the next request."""
    request.session["value"] = "changed"
    request.session["extra"] = [1, 2]
    return {}


def _client() -> TestClient[Litestar]:
    config = ChangedOnlyCookieConfig(secret=os.urandom(16), key="s", max_age=MAX_AGE, secure=False)
    app = Litestar([set_value, read, scribble], middleware=[config.middleware])
    return TestClient(app)


@pytest.fixture
def decryptions(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record every cookie value the backend really decrypts."""
    seen: list[bytes] = []
    original = ChangedOnlySessionBackend._decrypt

    def spy(self: ChangedOnlySessionBackend, value: bytes) -> tuple[int, bytes] | None:
        seen.append(value)
        return original(self, value)

    monkeypatch.setattr(ChangedOnlySessionBackend, "_decrypt", spy)
    return seen


def test_same_cookie_decrypted_once(decryptions: list[bytes]) -> None:
    with _client() as client:
        client.get("/set", params={"value": "uno"})
        first = client.get("/read").json()
        second = client.get("/read").json()

    assert first == {"value": "uno"}
    assert second == first
    assert len(decryptions) == 1


def test_changes_in_place_do_not_reach_next_request() -> None:
    with _client() as client:
        client.get("/set", params={"value": "uno"})
        cookie = client.cookies["s"]
        client.get("/scribble")
        client.cookies.clear()
        client.cookies.set("s", cookie)
        again = client.get("/read").json()

    assert again == {"value": "uno"}


def test_tampered_cookie_refused_after_genuine_one_cached() -> None:
    with _client() as client:
        client.get("/set", params={"value": "uno"})
        genuine = client.cookies["s"]
        client.get("/read")
        middle = len(genuine) // 2
        forged = genuine[:middle] + ("A" if genuine[middle] != "A" else "B") + genuine[middle + 1:]
        client.cookies.clear()
        client.cookies.set("s", forged)
        answer = client.get("/read").json()

    assert answer == {}


def test_cached_cookie_expires() -> None:
    with time_machine.travel(1_800_000_000, tick=False) as traveller, _client() as client:
        client.get("/set", params={"value": "uno"})
        cookie = client.cookies["s"]
        assert client.get("/read").json() == {"value": "uno"}
        traveller.shift(MAX_AGE + 1)
        client.cookies.clear()
        client.cookies.set("s", cookie)
        answer = client.get("/read").json()

    assert answer == {}


def test_not_a_cookie_of_ours() -> None:
    with _client() as client:
        client.cookies.set("s", "bm90IGEgc2Vzc2lvbg==")
        answer = client.get("/read").json()

    assert answer == {}


def test_cache_keeps_latest_cookies(monkeypatch: pytest.MonkeyPatch, decryptions: list[bytes]) -> None:
    monkeypatch.setattr(session_cookie, "DECRYPTED_CACHE_SIZE", 2)
    with _client() as client:
        cookies = []
        for value in ("uno", "due", "tre"):
            client.cookies.clear()
            client.get("/set", params={"value": value})
            cookies.append(client.cookies["s"])
        for cookie in [*cookies, cookies[0], cookies[2]]:
            client.cookies.clear()
            client.cookies.set("s", cookie)
            client.get("/read")

    # The first cookie was dropped when the third was read, so reading it again decrypts it again;
    # the third was still kept.
    assert decryptions == [cookie.strip('"').encode() for cookie in [*cookies, cookies[0]]]


def test_cookie_with_stray_characters_refused() -> None:
    with _client() as client:
        client.get("/set", params={"value": "uno"})
        genuine = client.cookies["s"].strip('"')
        answers = []
        for forged in (genuine[:10] + "!" + genuine[10:], genuine + "=", genuine[:10] + " " + genuine[10:]):
            client.cookies.clear()
            client.cookies.set("s", forged)
            answers.append(client.get("/read").json())

    assert answers == [{}, {}, {}]
