"""Request metrics by route template, with the names and labels dashboards already use."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.exceptions import NotFoundException
from litestar.testing import TestClient
from prometheus_client import REGISTRY

from bolletta.platform.web.http_metrics import UNMATCHED, count_unmatched, http_metrics

PATH = "/prova/{code:str}"
TEMPLATE = "/prova/{code}"


@get(PATH, sync_to_thread=False)
def page(code: str) -> str:
    if code == "rotto":
        raise RuntimeError("broken on purpose")
    if code == "assente":
        raise NotFoundException(f"no code {code}")
    return code


@get("/health/live", sync_to_thread=False)
def live() -> str:
    return "ok"


def _value(name: str, path: str, status: int, method: str = "GET") -> float:
    labels = {"method": method, "path": path, "status_code": str(status), "app_name": "bolletta"}
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _client() -> TestClient[Litestar]:
    return TestClient(Litestar([page, live], middleware=[http_metrics], after_exception=[count_unmatched],
                               debug=False, logging_config=None))


def test_counted_by_template() -> None:
    before = _value("bolletta_http_requests_total", TEMPLATE, 200)
    timed_before = _value("bolletta_http_request_duration_seconds_count", TEMPLATE, 200)

    with _client() as client:
        client.get("/prova/AB123")
        client.get("/prova/CD456")

    assert _value("bolletta_http_requests_total", TEMPLATE, 200) == before + 2
    assert _value("bolletta_http_request_duration_seconds_count", TEMPLATE, 200) == timed_before + 2
    assert _value("bolletta_http_requests_in_progress", TEMPLATE, 200) == 0


def test_server_error_counted_as_error() -> None:
    before = _value("bolletta_http_requests_error_total", TEMPLATE, 500)

    with _client() as client:
        response = client.get("/prova/rotto")

    assert response.status_code == 500
    assert _value("bolletta_http_requests_error_total", TEMPLATE, 500) == before + 1
    assert _value("bolletta_http_requests_error_total", TEMPLATE, 200) == 0


def test_probes_not_counted() -> None:
    with _client() as client:
        client.get("/health/live")

    assert _value("bolletta_http_requests_total", "/health/live", 200) == 0


@get("/vietato", sync_to_thread=False)
def forbidden() -> str:
    from litestar.exceptions import PermissionDeniedException

    raise PermissionDeniedException("no")


def test_refused_before_response_counted_with_status() -> None:
    before = _value("bolletta_http_requests_total", "/vietato", 403)

    with TestClient(Litestar([forbidden], middleware=[http_metrics], logging_config=None)) as client:
        response = client.get("/vietato")

    assert response.status_code == 403
    assert _value("bolletta_http_requests_total", "/vietato", 403) == before + 1
    assert _value("bolletta_http_requests_total", "/vietato", 200) == 0


def test_unmatched_paths_counted_as_one() -> None:
    before = _value("bolletta_http_requests_total", UNMATCHED, 404)
    not_allowed_before = _value("bolletta_http_requests_total", UNMATCHED, 405, "POST")

    with _client() as client:
        missing = client.get("/wp-login.php")
        other = client.get("/prova")
        wrong_method = client.post("/prova/AB123")

    assert missing.status_code == other.status_code == 404
    assert wrong_method.status_code == 405
    assert _value("bolletta_http_requests_total", UNMATCHED, 404) == before + 2
    assert _value("bolletta_http_requests_total", UNMATCHED, 405, "POST") == not_allowed_before + 1
    assert _value("bolletta_http_requests_total", "/wp-login.php", 404) == 0


def test_handler_404_keeps_template() -> None:
    """A 404 a route's handler raises is the middleware's, under the route's template."""
    before = _value("bolletta_http_requests_total", UNMATCHED, 404)

    with _client() as client:
        response = client.get("/prova/assente")

    assert response.status_code == 404
    assert _value("bolletta_http_requests_total", TEMPLATE, 404) >= 1
    assert _value("bolletta_http_requests_total", UNMATCHED, 404) == before
