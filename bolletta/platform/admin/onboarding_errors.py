"""Error pages of the wizard's routes: an Italian page (English by the admin's choice) instead of JSON.

Litestar turns an HTTP exception into a JSON body by default. A person filling in the wizard gets a
page instead, which states what went wrong and links back to the list of drafts.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from bolletta.platform.i18n.formatting import kilobytes
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.office.access import staff_language
from bolletta.platform.office.staff import current_staff
from bolletta.platform.web.templates import render
from bolletta.tenants.images import MAX_IMAGE_BYTES

logger = logging.getLogger(__name__)

NOT_FOUND = T_("This page does not exist: the draft may have been discarded or activated, or the address is "
               "wrong.")
FORM_EXPIRED = T_("The form has expired or did not come from this console. Reload the page and send it again.")
OPERATORS_ONLY = T_("This area is for the platform operator.")


def error_page(request: Request[Any, Any, Any], status_code: int, problem: Text) -> Response[str]:
    """Render ``problem`` on the console's error page with ``status_code``."""
    staff = current_staff(request)
    context: dict[str, Any] = {"admin": staff} if staff is not None and staff.tenant is None else {}
    return render(request, "admin/error.html", status_code=status_code, language=staff_language(request),
                  problem=problem, **context)


def not_found_page(request: Request[Any, Any, Any], _exc: NotFoundException) -> Response[str]:
    """Show a wizard address that leads nowhere (a draft or step that does not exist)."""
    return error_page(request, 404, NOT_FOUND)


def forbidden_page(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[str]:
    """Show a refused request: a form without a valid CSRF token, or staff who are not operators."""
    csrf = "csrf" in str(exc.detail).lower()
    return error_page(request, 403, FORM_EXPIRED if csrf else OPERATORS_ONLY)


def too_large_page(request: Request[Any, Any, Any], _exc: RequestEntityTooLarge) -> Response[str]:
    """Show an upload over the server's body size limit, with its size from ``Content-Length``."""
    language = staff_language(request)
    declared = request.headers.get("content-length", "")
    size = kilobytes(int(declared), language) if declared.isdigit() else "?"
    logger.info("onboarding: upload of %s bytes rejected by the body size limit", declared or "unknown")
    return error_page(request, 413, T_("The upload is too large for the console ({size}); the limit of an "
                                       "image is {limit}.", size=size, limit=kilobytes(MAX_IMAGE_BYTES, language)))


EXCEPTION_HANDLERS: dict[Any, Any] = {NotFoundException: not_found_page,
                                      PermissionDeniedException: forbidden_page,
                                      RequestEntityTooLarge: too_large_page}
"""The handlers the wizard's router installs."""
