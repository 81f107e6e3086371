"""The hidden CSRF field of every form: the token is escaped, the markup around it is not."""

from __future__ import annotations

from litestar import Request
from litestar.utils.scope.state import ScopeState

from bolletta.platform.web.templates import csrf_input


def _request(token: object) -> Request:  # type: ignore[type-arg]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b"", "state": {}}
    request: Request = Request(scope)  # type: ignore[arg-type,type-arg]
    ScopeState.from_scope(request.scope).csrf_token = token  # type: ignore[assignment]
    return request


def test_token_in_field() -> None:
    assert str(csrf_input(_request("a1b2c3"))) == '<input type="hidden" name="_csrf_token" value="a1b2c3">'


def test_hostile_token_escaped() -> None:
    field = str(csrf_input(_request('x"><script>alert(1)</script>')))

    assert field == ('<input type="hidden" name="_csrf_token" '
                     'value="x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">')


def test_missing_token_empty() -> None:
    assert str(csrf_input(_request(None))) == '<input type="hidden" name="_csrf_token" value="">'
