"""TOTP pages after sign-in: a staff member's own reset or removal, and the tenant admin's staff list.

A staff member proves who they are with the password and, when enrolled, the current code. A reset
then shows a new secret that is saved only once a code from it is confirmed, within
:data:`PENDING_SECONDS`; until then the old secret stays valid. Every saved change ends the user's
sessions, this one included, so the browser goes back to the sign-in page.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import anyio
import pyotp
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect

from bolletta.platform import clock
from bolletta.platform.errors import BollettaError, NotFound
from bolletta.platform.office import two_factor_changes
from bolletta.platform.office.access import page, require_admin, require_staff, staff_of
from bolletta.platform.office.routes import _tenant
from bolletta.platform.office.staff import sign_out_here
from bolletta.platform.office.two_factor import ISSUER, code_is_valid
from bolletta.platform.web.context import rt

logger = logging.getLogger(__name__)

PENDING_RESET = "staff_totp_new"
"""Session key of a reset in progress: the user id, the unconfirmed new secret and when it was made."""
PENDING_SECONDS = 5 * 60
SIGNED_OUT = "/office/login?changed=two-factor"
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _account_page(request: Request[Any, Any, Any], *, error: str | None = None, secret: str | None = None,
                        status_code: int = 200) -> Response[str]:
    staff = staff_of(request)
    tenant = await _tenant(staff)
    state = await anyio.to_thread.run_sync(two_factor_changes.status, rt(), staff)
    grouped = uri = None
    if secret:
        grouped = " ".join(secret[index:index + 4] for index in range(0, len(secret), 4))
        uri = pyotp.TOTP(secret).provisioning_uri(name=state.username, issuer_name=ISSUER)
    return page(request, "office/two_factor.html", tenant, status_code=status_code, state=state, error=error,
                secret=grouped, uri=uri)


def _new_secret(request: Request[Any, Any, Any], user_id: int | None) -> str | None:
    pending = (request.session or {}).get(PENDING_RESET)
    if not isinstance(pending, dict) or pending.get("id") != user_id:
        return None
    if clock.now().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    secret = pending.get("secret")
    return secret if isinstance(secret, str) else None


@get("/account/two-factor", name="office:two-factor", guards=[require_staff])
async def account_two_factor(request: Request[Any, Any, Any]) -> Response[str]:
    """Show the staff member's TOTP state with the forms to reset, set up or remove it."""
    return await _account_page(request)


@post("/account/two-factor", name="office:two-factor-change", guards=[require_staff])
async def change_two_factor(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
    """Check the password and code, then remove the TOTP or show a new secret to confirm."""
    staff = staff_of(request)
    action = data.get("action", "")
    if action not in ("reset", "remove"):
        return await _account_page(request, error="action", status_code=400)
    outcome = await anyio.to_thread.run_sync(two_factor_changes.check_identity, rt(), staff,
                                             data.get("password", ""), data.get("code", ""))
    if outcome != "ok":
        logger.warning("office: TOTP change by %r from %s not accepted (%s)", staff.username, staff.ip, outcome)
        return await _account_page(request, error=outcome, status_code=401)
    if action == "remove":
        try:
            await anyio.to_thread.run_sync(two_factor_changes.remove_own, rt(), staff)
        except two_factor_changes.TwoFactorChangeRejected as exc:
            logger.warning("office: TOTP removal by %r rejected: %s", staff.username, exc)
            return await _account_page(request, error="required", status_code=409)
        sign_out_here(request)
        return Redirect(SIGNED_OUT, status_code=303)
    secret = pyotp.random_base32()
    request.set_session({**(request.session or {}),
                         PENDING_RESET: {"id": staff.user_id, "secret": secret, "at": int(clock.now().timestamp())}})
    return await _account_page(request, secret=secret)


@post("/account/two-factor/confirm", name="office:two-factor-confirm", guards=[require_staff])
async def confirm_two_factor(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
    """Save the new secret once a code from it is confirmed, then end every session of the user."""
    staff = staff_of(request)
    secret = _new_secret(request, staff.user_id)
    if secret is None:
        return await _account_page(request, error="expired", status_code=409)
    if not code_is_valid(secret, data.get("code", "")):
        return await _account_page(request, error="code", secret=secret, status_code=401)
    await anyio.to_thread.run_sync(two_factor_changes.save_own_secret, rt(), staff, secret)
    sign_out_here(request)
    return Redirect(SIGNED_OUT, status_code=303)


@get("/staff", name="office:staff", guards=[require_admin])
async def staff_list(request: Request[Any, Any, Any]) -> Response[str]:
    """List the tenant's staff with their TOTP state and a reset button for each."""
    staff = staff_of(request)
    tenant = await _tenant(staff)
    members = await anyio.to_thread.run_sync(two_factor_changes.tenant_staff, rt(), tenant.slug)
    return page(request, "office/staff_users.html", tenant, members=members,
                reset=request.query_params.get("reset"), error=request.query_params.get("error"))


@post("/staff/{user_id:int}/two-factor/reset", name="office:staff-two-factor-reset", guards=[require_admin])
async def reset_staff_two_factor(request: Request[Any, Any, Any], user_id: FromPath[int]) -> Response[Any]:
    """Reset a staff member's TOTP so they enrol again at their next sign-in; audited."""
    admin = staff_of(request)
    try:
        await anyio.to_thread.run_sync(two_factor_changes.reset_for, rt(), admin, user_id)
    except NotFound as exc:
        raise NotFoundException() from exc
    except BollettaError as exc:
        logger.warning("tenant %s: TOTP reset of user %d by %s rejected: %s", admin.tenant, user_id,
                       admin.username, exc)
        return Redirect("/office/staff?error=self", status_code=303)
    return Redirect(f"/office/staff?reset={user_id}", status_code=303)


def two_factor_pages_router() -> Router:
    """Build the TOTP account and staff routes under ``/office``."""
    return Router(path="/office", route_handlers=[account_two_factor, change_two_factor, confirm_two_factor,
                                                  staff_list, reset_staff_two_factor])
