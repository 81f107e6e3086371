"""TOTP two-factor sign-in for staff (RFC 6238 codes through pyotp).

A user who has enrolled always gives a code after the password. When the tenant requires TOTP
(``require_totp``) or an admin reset the user's TOTP, a user without a secret is shown a new one
after the password and signs in by confirming one code from it. Between the password and the code, the encrypted session
cookie holds only a pending sign-in that expires after :data:`PENDING_SECONDS`. Wrong codes count
towards the lockout of the username from that address. The secret is stored encrypted with a key derived from the master
secret.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

import anyio
import pyotp
from cryptography.fernet import Fernet
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect
from sqlalchemy import select

from bolletta.platform import audit, clock, keys
from bolletta.platform.db.models.platform import Tenant, User
from bolletta.platform.office import lockout
from bolletta.platform.office.staff import sign_in
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import client_ip, rt
from bolletta.platform.web.csrf import rotate_csrf_token
from bolletta.platform.web.templates import render
from bolletta.tenants.config import decode_config

logger = logging.getLogger(__name__)

PENDING_KEY = "staff_pending"
PENDING_SECONDS = 5 * 60
ISSUER = "Bolletta Smart"
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _fernet(runtime: Runtime) -> Fernet:
    return Fernet(keys.fernet_key(runtime.secret))


def encrypt_secret(runtime: Runtime, secret: str) -> str:
    """Encrypt a TOTP secret for storage."""
    return _fernet(runtime).encrypt(secret.encode()).decode()


def decrypt_secret(runtime: Runtime, stored: str) -> str:
    """Decrypt a stored TOTP secret."""
    return _fernet(runtime).decrypt(stored.encode()).decode()


def code_is_valid(secret: str, code: str) -> bool:
    """Check a 6-digit code against ``secret``, allowing one 30-second step of clock drift."""
    code = code.replace(" ", "")
    return len(code) == 6 and code.isdigit() and pyotp.TOTP(secret).verify(code, valid_window=1)


def matching_step(secret: str, code: str) -> int | None:
    """Return the time step whose code ``code`` is, allowing one step of clock drift, or ``None``.

    A caller that stores the step of the last accepted code can reject a step at or before it, so a
    code seen by someone else cannot be used again.
    """
    code = code.replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(clock.now())
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def next_step(user: User, tenant: Tenant) -> str | None:
    """Return ``code`` or ``enroll`` when the user must pass TOTP after the password, else ``None``."""
    if user.totp_secret:
        return "code"
    if user.totp_enrolment_due or decode_config(tenant.settings).require_totp:
        return "enroll"
    return None


def start_pending(request: Request[Any, Any, Any], user: User, tenant: Tenant, step: str) -> Response[Any]:
    """Keep the half-done sign-in in the session and send the browser to the code page."""
    pending: dict[str, Any] = {"id": user.id, "tenant": tenant.slug, "at": int(clock.now().timestamp()),
                               "step": step}
    if step == "enroll":
        pending["secret"] = pyotp.random_base32()
    request.set_session({PENDING_KEY: pending})
    return Redirect("/office/login/code", status_code=303)


def _pending(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    pending = (request.session or {}).get(PENDING_KEY)
    if not isinstance(pending, dict) or clock.now().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    return pending


def _code_page(request: Request[Any, Any, Any], pending: dict[str, Any], username: str, *,
               error: str | None = None, status_code: int = 200) -> Response[str]:
    secret = pending.get("secret")
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER) if secret else None
    grouped = " ".join(secret[index:index + 4] for index in range(0, len(secret), 4)) if secret else None
    return render(request, "office/login_code.html", status_code=status_code, error=error, secret=grouped,
                  uri=uri)


def _load(pending: dict[str, Any]) -> tuple[User, Tenant] | None:
    runtime = rt()
    with runtime.db.platform_session() as session:
        user = session.get(User, pending["id"])
        tenant = session.scalar(select(Tenant).where(Tenant.slug == pending["tenant"]))
        if user is None or tenant is None or not user.active:
            return None
        session.expunge_all()
        return user, tenant


@get("/office/login/code", name="office:login-code")
async def code_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Ask for the TOTP code (and show the new secret when enrolling)."""
    pending = _pending(request)
    found = await anyio.to_thread.run_sync(_load, pending) if pending else None
    if pending is None or found is None:
        return Redirect("/office/login", status_code=303)
    return _code_page(request, pending, found[0].username)


def _finish(pending: dict[str, Any], user: User, tenant: Tenant, code: str, ip: str) -> str:
    """Check the code; return ``ok``, ``invalid`` or ``locked``, saving a new secret on enrolment."""
    runtime = rt()
    if lockout.is_locked(runtime.db, user.username, ip):
        return "locked"
    if pending["step"] == "enroll":
        secret = pending["secret"]
    elif user.totp_secret:
        secret = decrypt_secret(runtime, user.totp_secret)
    else:
        return "invalid"
    if not code_is_valid(secret, code):
        lockout.record_failure(runtime.db, user.username, ip)
        return "invalid"
    with runtime.db.platform_session() as session:
        stored = session.get(User, user.id)
        assert stored is not None
        if pending["step"] == "enroll":
            stored.totp_secret = encrypt_secret(runtime, secret)
            stored.totp_enrolment_due = False
        stored.last_login_at = clock.now()
        session.commit()
    lockout.clear(runtime.db, user.username, ip)
    with runtime.db.tenant_session(tenant.slug) as session:
        if pending["step"] == "enroll":
            audit.record(session, actor=f"user:{user.username}", user_id=user.id, action="staff.totp_enrol", ip=ip)
        audit.record(session, actor=f"user:{user.username}", user_id=user.id, action="staff.sign_in", ip=ip,
                     detail={"totp": True})
        session.commit()
    return "ok"


@post("/office/login/code", name="office:login-code-submit")
async def code_submit(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
    """Check the TOTP code and finish the sign-in."""
    pending = _pending(request)
    found = await anyio.to_thread.run_sync(_load, pending) if pending else None
    if pending is None or found is None:
        return Redirect("/office/login", status_code=303)
    user, tenant = found
    outcome = await anyio.to_thread.run_sync(_finish, pending, user, tenant, data.get("code", ""),
                                             client_ip(request))
    if outcome == "ok":
        sign_in(request, user, tenant)
        response = Redirect("/office/", status_code=303)
        rotate_csrf_token(request, response)
        return response
    logger.warning("office: TOTP code of %r from %s not accepted (%s)", user.username, client_ip(request), outcome)
    return _code_page(request, pending, user.username, error=outcome, status_code=401)


def two_factor_router() -> Router:
    """Build the TOTP sign-in routes."""
    return Router(path="/", route_handlers=[code_page, code_submit])
