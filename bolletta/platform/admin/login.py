"""Signing in to the operator console: password, then a TOTP code that platform admins always need.

A platform admin without a TOTP secret enrols on the first sign-in. The code page shows a new
secret as text, as an ``otpauth://`` URI and as a QR code, and the sign-in finishes when one code
from it is accepted. Between the password and the code the session holds only a pending sign-in that
expires after :data:`two_factor.PENDING_SECONDS`. Wrong passwords and wrong codes count towards the
username's lockout (``office/lockout.py``), and so does a code already used once: the time step of
the last accepted code is stored. A tenant's staff member is rejected here with the same
message as a wrong password. Sign-ins, enrolments, rejected codes and sign-outs go to the platform
audit log.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import anyio
import pyotp
import segno
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect
from markupsafe import Markup
from sqlalchemy import or_, update

from bolletta.platform import audit, clock
from bolletta.platform.admin.access import PLATFORM_ADMIN, require_platform_admin
from bolletta.platform.db.models.platform import User
from bolletta.platform.office import lockout, two_factor
from bolletta.platform.office.access import LANGUAGE_KEY, staff_language
from bolletta.platform.office.staff import current_staff, end_sessions, sign_in
from bolletta.platform.web.context import client_ip, rt
from bolletta.platform.web.templates import render
from bolletta.tenants.accounts import authenticate_user

logger = logging.getLogger(__name__)

PENDING_KEY = "admin_pending"
LOGGED_USERNAME_CHARS = 64
CONSOLE_LANGUAGES = ("it", "en")
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _render(request: Request[Any, Any, Any], template: str, *, status_code: int = 200,
            **context: Any) -> Response[str]:
    return render(request, template, status_code=status_code, language=staff_language(request), **context)


@get("/admin/login", name="admin:login")
async def login_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Render the console's sign-in form."""
    return _render(request, "admin/login.html", error=None)


def _check_password(username: str, password: str, ip: str) -> User | None:
    """Return the platform admin with these credentials, or ``None`` after counting a failure."""
    db = rt().db
    if lockout.is_locked(db, username, ip):
        logger.warning("admin: sign-in of locked username %r from %s", username[:LOGGED_USERNAME_CHARS], ip)
        return None
    user = authenticate_user(db, username, password)
    if user is None or user.role != PLATFORM_ADMIN or user.tenant_id is not None:
        if lockout.record_failure(db, username, ip):
            logger.warning("admin: username %r locked after %d failed sign-ins, the last from %s",
                           username[:LOGGED_USERNAME_CHARS], lockout.MAX_FAILURES, ip)
        return None
    return user


@post("/admin/login", name="admin:login-submit")
async def login_submit(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
    """Check the password; the same message for an unknown user, a wrong password or a tenant's staff."""
    username = data.get("username", "").strip()
    ip = client_ip(request)
    user = await anyio.to_thread.run_sync(_check_password, username, data.get("password", ""), ip)
    if user is None:
        logger.warning("admin: sign-in failed for username %r from %s", username[:LOGGED_USERNAME_CHARS], ip)
        return _render(request, "admin/login.html", status_code=401, error="invalid")
    pending: dict[str, Any] = {"id": user.id, "at": int(clock.now().timestamp()),
                               "step": "code" if user.totp_secret else "enroll"}
    if not user.totp_secret:
        pending["secret"] = pyotp.random_base32()
    language = (request.session or {}).get(LANGUAGE_KEY)
    request.set_session({PENDING_KEY: pending, **({LANGUAGE_KEY: language} if language else {})})
    return Redirect("/admin/login/code", status_code=303)


def _pending(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    pending = (request.session or {}).get(PENDING_KEY)
    if not isinstance(pending, dict) or clock.now().timestamp() - pending.get("at", 0) > two_factor.PENDING_SECONDS:
        return None
    return pending


def _load(user_id: int) -> User | None:
    with rt().db.platform_session() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or user.role != PLATFORM_ADMIN:
            return None
        session.expunge(user)
        return user


def qr_svg(uri: str) -> Markup:
    """Encode the ``otpauth://`` URI as an inline SVG QR code for an authenticator app to scan."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno builds the SVG from the encoded modules only


def _code_page(request: Request[Any, Any, Any], pending: dict[str, Any], username: str, *,
               error: str | None = None, status_code: int = 200) -> Response[str]:
    secret = pending.get("secret")
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=two_factor.ISSUER) if secret else None
    grouped = " ".join(secret[index:index + 4] for index in range(0, len(secret), 4)) if secret else None
    return _render(request, "admin/login_code.html", status_code=status_code, error=error, secret=grouped,
                   uri=uri, qr=qr_svg(uri) if uri else None)


@get("/admin/login/code", name="admin:login-code")
async def code_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Ask for the TOTP code; on the first sign-in show the new secret to enrol first."""
    pending = _pending(request)
    user = await anyio.to_thread.run_sync(_load, pending["id"]) if pending else None
    if pending is None or user is None:
        return Redirect("/admin/login", status_code=303)
    return _code_page(request, pending, user.username)


def _finish(pending: dict[str, Any], user: User, code: str, ip: str) -> str:
    """Check the code; return ``ok``, ``invalid`` or ``locked``, storing the secret on enrolment."""
    runtime = rt()
    if lockout.is_locked(runtime.db, user.username, ip):
        return "locked"
    enrolling = pending["step"] == "enroll"
    if enrolling:
        secret = pending["secret"]
    elif user.totp_secret:
        secret = two_factor.decrypt_secret(runtime, user.totp_secret)
    else:
        return "invalid"
    actor = f"user:{user.username}"
    step = two_factor.matching_step(secret, code)
    with runtime.db.platform_session() as session:
        # Compare-and-set, so a code is accepted once even when two requests carry it at once.
        accepted = step is not None and session.execute(
            update(User).where(User.id == user.id,
                               or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step)
        ).rowcount == 1  # type: ignore[attr-defined]
        if not accepted:
            session.rollback()
            locked = lockout.record_failure(runtime.db, user.username, ip)
            reason = "invalid" if step is None else "reused"
            audit.record_platform(session, actor=actor, user_id=user.id, action="admin.sign_in_refused",
                                  detail={"step": pending["step"], "reason": reason, "locked": locked}, ip=ip)
            session.commit()
            return "locked" if locked else "invalid"
        stored = session.get(User, user.id)
        assert stored is not None
        if enrolling:
            stored.totp_secret = two_factor.encrypt_secret(runtime, secret)
            audit.record_platform(session, actor=actor, user_id=user.id, action="admin.totp_enrol", ip=ip)
        stored.last_login_at = clock.now()
        audit.record_platform(session, actor=actor, user_id=user.id, action="admin.sign_in", ip=ip,
                              detail={"totp": True})
        session.commit()
    lockout.clear(runtime.db, user.username, ip)
    return "ok"


@post("/admin/login/code", name="admin:login-code-submit")
async def code_submit(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
    """Check the TOTP code and finish the sign-in."""
    pending = _pending(request)
    user = await anyio.to_thread.run_sync(_load, pending["id"]) if pending else None
    if pending is None or user is None:
        return Redirect("/admin/login", status_code=303)
    ip = client_ip(request)
    outcome = await anyio.to_thread.run_sync(_finish, pending, user, data.get("code", ""), ip)
    if outcome == "ok":
        language = (request.session or {}).get(LANGUAGE_KEY)
        sign_in(request, user, None)
        if language:
            request.set_session({**(request.session or {}), LANGUAGE_KEY: language})
        return Redirect("/admin/", status_code=303)
    logger.warning("admin: TOTP code of %r from %s not accepted (%s)", user.username, ip, outcome)
    return _code_page(request, pending, user.username, error=outcome, status_code=401)


@post("/admin/logout", name="admin:logout")
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    """End the session, and every other session of the same admin."""
    # Only the sign-in keys go: a customer session in the same browser stays open.
    staff = current_staff(request)
    remaining = {key: value for key, value in (request.session or {}).items()
                 if not key.startswith("staff") and key != PENDING_KEY}
    request.set_session(remaining)
    if staff is not None and staff.user_id is not None:
        await anyio.to_thread.run_sync(_sign_out, staff.user_id, staff.username, client_ip(request))
    return Redirect("/admin/login", status_code=303)


def _sign_out(user_id: int, username: str, ip: str) -> None:
    runtime = rt()
    end_sessions(runtime.db, user_id)
    with runtime.db.platform_session() as session:
        audit.record_platform(session, actor=f"user:{username}", user_id=user_id, action="admin.sign_out", ip=ip)
        session.commit()


@post("/admin/language", name="admin:language", guards=[require_platform_admin])
async def set_language(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
    """Switch the console between Italian and English and return to the page."""
    language = data.get("language", "")
    if language in CONSOLE_LANGUAGES:
        request.set_session({**(request.session or {}), LANGUAGE_KEY: language})
    target = data.get("next", "")
    if not target.startswith("/admin/") or target.startswith("//") or "\\" in target:
        target = "/admin/"
    return Redirect(target, status_code=303)


def login_router() -> Router:
    """Build the console's sign-in, sign-out and language routes."""
    return Router(path="/", route_handlers=[login_page, login_submit, code_page, code_submit, logout,
                                            set_language])
