"""Password reset by e-mail for staff ("Password dimenticata?").

The request page shows the same text whether or not the username exists, so it reveals no accounts.
An active tenant user with an e-mail address gets a link valid for :data:`LINK_LIFETIME`, usable
once; only the SHA-256 of its token is stored. Setting the new password clears the username's
lockout and is audited in the tenant's log.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from datetime import timedelta
from typing import Annotated, Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from sqlalchemy import select

from bolletta.platform import audit, clock
from bolletta.platform.db.models.platform import PasswordReset, User
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.i18n.catalog import gettext
from bolletta.platform.i18n.dynamic_ids import N_
from bolletta.platform.mail.sender import send_mail
from bolletta.platform.office import lockout
from bolletta.platform.office.staff import end_sessions
from bolletta.platform.passwords import hash_password
from bolletta.platform.web.context import client_ip, rt
from bolletta.platform.web.templates import render
from bolletta.tenants.accounts import MIN_PASSWORD_LENGTH
from bolletta.tenants.registry import tenant_by_id

logger = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(minutes=30)
MAIL_LANGUAGE = "it"
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
MAIL_SUBJECT = N_("Bolletta Smart: reset your password")
MAIL_TEXT = N_("To choose a new password for {username}, open this link within 30 minutes:\n\n{link}\n\n"
               "If you did not ask for it, ignore this e-mail: your password stays the same.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_reset(username: str) -> None:
    """E-mail a reset link to the user ``username`` when it is an active tenant user with an address."""
    runtime = rt()
    with runtime.db.platform_session() as session:
        user = session.scalar(select(User).where(User.username == username.strip(), User.active.is_(True)))
        if user is None or user.tenant_id is None or not user.email:
            return
        token = secrets.token_urlsafe(32)
        now = clock.now()
        session.add(PasswordReset(token_hash=_digest(token), user_id=user.id, created_at=now,
                                  expires_at=now + LINK_LIFETIME))
        session.commit()
        address, name, user_id = user.email, user.username, user.id
    link = f"{runtime.settings.public_base_url.rstrip('/')}/office/password-reset/{token}"
    try:
        send_mail(runtime.settings.smtp_url, sender=runtime.settings.mail_from, to=[address],
                  subject=gettext(MAIL_LANGUAGE, MAIL_SUBJECT),
                  text=gettext(MAIL_LANGUAGE, MAIL_TEXT).format(username=name, link=link))
    except (ConfigurationError, smtplib.SMTPException, OSError) as exc:
        logger.error("office: password reset e-mail for user %d failed: %s", user_id, exc)


def _valid_reset(token: str) -> PasswordReset | None:
    with rt().db.platform_session() as session:
        reset = session.get(PasswordReset, _digest(token))
        if reset is None or reset.used_at is not None or clock.as_utc(reset.expires_at) <= clock.now():
            return None
        session.expunge(reset)
        return reset


def set_password(token: str, password: str, ip: str) -> bool:
    """Set the new password through a valid link and use the link up; ``False`` when the link is not valid."""
    runtime = rt()
    with runtime.db.platform_session() as session:
        reset = session.get(PasswordReset, _digest(token), with_for_update=True)
        if reset is None or reset.used_at is not None or clock.as_utc(reset.expires_at) <= clock.now():
            return False
        user = session.get(User, reset.user_id)
        if user is None or not user.active or user.tenant_id is None:
            return False
        user.password_hash = hash_password(password)
        reset.used_at = clock.now()
        session.commit()
        username, user_id, tenant_id = user.username, user.id, user.tenant_id
    # Whoever held the old password may hold a session too: every session of the user ends here.
    end_sessions(runtime.db, user_id)
    lockout.clear(runtime.db, username)
    tenant = tenant_by_id(runtime.db, tenant_id)
    with runtime.db.tenant_session(tenant.slug) as session:
        audit.record(session, actor=f"user:{username}", user_id=user_id, action="staff.password_reset", ip=ip)
        session.commit()
    return True


@get("/office/password-reset", name="office:password-reset")
async def reset_request_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Ask for the username."""
    return render(request, "office/password_reset.html", sent=False)


@post("/office/password-reset", name="office:password-reset-submit")
async def reset_request_submit(request: Request[Any, Any, Any], data: FormData) -> Response[str]:
    """Send the link if the account exists; the page shows the same text either way."""
    await anyio.to_thread.run_sync(request_reset, data.get("username", "")[:150])
    return render(request, "office/password_reset.html", sent=True)


@get("/office/password-reset/{token:str}", name="office:password-reset-link")
async def reset_link_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """Ask for the new password, or show that the link is no longer valid."""
    valid = await anyio.to_thread.run_sync(_valid_reset, token) is not None
    return render(request, "office/password_new.html", status_code=200 if valid else 404, valid=valid,
                  error=None, done=False, min_length=MIN_PASSWORD_LENGTH)


@post("/office/password-reset/{token:str}", name="office:password-reset-link-submit")
async def reset_link_submit(request: Request[Any, Any, Any], token: FromPath[str], data: FormData) -> Response[str]:
    """Set the new password."""
    password, repeated = data.get("password", ""), data.get("password_again", "")
    error = None
    if len(password) < MIN_PASSWORD_LENGTH:
        error = "short"
    elif password != repeated:
        error = "different"
    if error:
        return render(request, "office/password_new.html", status_code=400, valid=True, error=error, done=False,
                      min_length=MIN_PASSWORD_LENGTH)
    done = await anyio.to_thread.run_sync(set_password, token, password, client_ip(request))
    return render(request, "office/password_new.html", status_code=200 if done else 404, valid=done, error=None,
                  done=done, min_length=MIN_PASSWORD_LENGTH)


def password_reset_router() -> Router:
    """Build the password reset routes."""
    return Router(path="/", route_handlers=[reset_request_page, reset_request_submit, reset_link_page,
                                            reset_link_submit])
