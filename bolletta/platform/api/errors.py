"""API errors as RFC 9457 problem details, in the language the client's Accept-Language prefers."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from babel.numbers import format_decimal
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec

from bolletta.platform.i18n.catalog import SUPPORTED_LANGUAGES
from bolletta.platform.i18n.message import T_, Text, render

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
DEFAULT_LANGUAGE = "it"


class Problem(msgspec.Struct, omit_defaults=True):
    """The problem details object of RFC 9457; ``type`` stays ``about:blank``, so ``title`` is the status's."""

    status: int
    title: str
    detail: str
    type: str = "about:blank"
    instance: str = ""


class ApiProblem(Exception):
    """Raised by API handlers to return a problem response; ``detail`` is translated when the response is built."""

    def __init__(self, status: int, detail: Text, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail.msgid)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


STATUS_TITLES: dict[int, Text] = {
    400: T_("Bad request"),
    401: T_("Unauthorized"),
    403: T_("Forbidden"),
    404: T_("Not found"),
    405: T_("Method not allowed"),
    409: T_("Conflict"),
    413: T_("Content too large"),
    415: T_("Unsupported media type"),
    422: T_("Unprocessable content"),
    429: T_("Too many requests"),
    500: T_("Internal server error"),
}

STATUS_DETAILS: dict[int, Text] = {
    400: T_("The request is not valid. Check its parameters and body against the API documentation."),
    404: T_("The resource does not exist."),
    405: T_("This method is not allowed on this resource."),
    413: T_("The archive exceeds the upload limit of {limit}. Split the flow into smaller archives."),
    500: T_("The server failed to handle the request. Try again later; if it fails again, contact support."),
}


COMMON_PROBLEMS = (400, 401, 403, 429)
"""Problems any API operation may return: bad parameters, no or invalid token, missing scope, rate limit."""


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Return the OpenAPI responses of an operation's problems: :data:`COMMON_PROBLEMS` and ``statuses``."""
    return {
        status: ResponseSpec(data_container=Problem, media_type=PROBLEM_MEDIA_TYPE, generate_examples=False,
                             description=STATUS_TITLES[status].msgid)
        for status in sorted({*COMMON_PROBLEMS, *statuses})
    }


def preferred_language(header: str | None) -> str:
    """Return the supported language ranked highest in an Accept-Language header, or Italian when none matches."""
    best_language, best_quality = DEFAULT_LANGUAGE, 0.0
    for position, item in enumerate((header or "").split(",")):
        tag, _, parameters = item.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        quality = 1.0
        parameter = parameters.strip()
        if parameter.startswith("q="):
            try:
                quality = float(parameter[2:])
            except ValueError:
                continue
        # Earlier items win ties, as the header lists them in the client's order of preference.
        quality -= position * 1e-6
        if language in SUPPORTED_LANGUAGES and quality > best_quality:
            best_language, best_quality = language, quality
    return best_language


def format_size(size: int, language: str = DEFAULT_LANGUAGE) -> str:
    """``size`` in bytes with the largest binary unit (KiB, MiB, GiB) that keeps it at 1 or more."""
    value, unit = float(size), "B"
    for larger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{format_decimal(value, format='#,##0.#', locale=language)} {unit}"


def problem_response(
    request: Request[Any, Any, Any], status: int, detail: Text, headers: dict[str, str] | None = None
) -> Response[Problem]:
    """Build the problem response for ``status`` with ``detail`` in the client's language."""
    language = preferred_language(request.headers.get("accept-language"))
    title = STATUS_TITLES.get(status, STATUS_TITLES[400 if status < 500 else 500])
    problem = Problem(status=status, title=render(title, language), detail=render(detail, language),
                      instance=request.url.path)
    return Response(content=problem, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def handle_api_problem(request: Request[Any, Any, Any], exc: ApiProblem) -> Response[Problem]:
    """Exception handler for :class:`ApiProblem`; logs the rejection without any credential."""
    logger.warning("API %s %s rejected with %d: %s", request.method, request.url.path, exc.status,
                   exc.detail.msgid.format(**exc.detail.params))
    return problem_response(request, exc.status, exc.detail, exc.headers)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    """Exception handler for Litestar's own HTTP errors (body too large, bad parameters) under ``/api``."""
    status = exc.status_code
    detail = STATUS_DETAILS.get(status, STATUS_DETAILS[400 if status < 500 else 500])
    invalid = _invalid_parameters(exc)
    if status == 400 and invalid:
        detail = T_("Invalid value for the parameter {names}. Check it against the API schema at /api/v1/schema.",
                    names=", ".join(invalid))
    if status == 413:
        limit = request.route_handler.resolve_request_max_body_size() or 0
        language = preferred_language(request.headers.get("accept-language"))
        detail = detail.with_params(limit=format_size(limit, language))
    if status >= 500:
        logger.error("API %s %s failed: %s", request.method, request.url.path, exc.detail)
    return problem_response(request, status, detail, dict(exc.headers or {}))


def _invalid_parameters(exc: HTTPException) -> list[str]:
    """Return the names of the query or path parameters that Litestar's validation rejected."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    return sorted({str(item["key"]) for item in extra if isinstance(item, dict) and item.get("key")})


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """Exception handler for anything else: log it with its traceback and return 500."""
    logger.exception("API %s %s failed", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, STATUS_DETAILS[500])
