"""Error pages of the wizard's routes: an Italian page (English by the admin's choice) instead of JSON.

Litestar answers an HTTP exception with a JSON body by default; a person filling in the wizard gets a
page that says what went wrong and where to go on from.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException

from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.office.access import staff_language
from bolletta.platform.office.staff import current_staff
from bolletta.platform.web.templates import render

NOT_FOUND = T_("This page does not exist: the draft may have been discarded or activated, or the address is "
               "wrong.")
FORM_EXPIRED = T_("The form has expired or did not come from this console. Reload the page and send it again.")
OPERATORS_ONLY = T_("This area is for the platform operator.")
TOO_LARGE = T_("The upload is too large for the console ({size}); the limit of an image is {limit}.")


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


def http_error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[str]:
    """Show any other refused request with its status, such as a body over the size limit (413)."""
    return error_page(request, exc.status_code, T_("The request was refused ({status}); go back and try again.",
                                                   status=exc.status_code))


EXCEPTION_HANDLERS: dict[Any, Any] = {NotFoundException: not_found_page,
                                      PermissionDeniedException: forbidden_page}
"""The handlers the wizard's router installs."""
