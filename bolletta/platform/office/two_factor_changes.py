"""Changes to a staff member's TOTP after sign-in: their own reset or removal, and an admin's reset.

Every change is audited in the tenant's log and ends every session of the user whose TOTP changed,
so a session opened with the old secret does not outlive it. Where the tenant requires TOTP, a user
can reset it but not remove it. An admin's reset clears the secret and makes the next sign-in enrol
a new one, whatever the tenant requires.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolletta.platform import audit
from bolletta.platform.db.models.platform import Tenant, User
from bolletta.platform.errors import BollettaError, NotFound, PermissionDenied
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.office import lockout
from bolletta.platform.office.access import ADMIN
from bolletta.platform.office.staff import TENANT_ROLES, end_sessions
from bolletta.platform.office.two_factor import code_is_valid, decrypt_secret, encrypt_secret
from bolletta.platform.passwords import verify_password
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import decode_config


class TwoFactorChangeRejected(BollettaError):
    """Raised for a change the tenant's rules do not allow, such as removing a required TOTP."""


@dataclass(frozen=True)
class TwoFactorStatus:
    """A staff member's TOTP state as the account page shows it."""

    username: str
    enrolled: bool
    enrolment_due: bool
    required: bool


@dataclass(frozen=True)
class StaffMember:
    """One row of the tenant admin's staff list."""

    user_id: int
    username: str
    full_name: str
    role: str
    active: bool
    enrolled: bool
    enrolment_due: bool


def _tenant(session: Session, slug: str | None) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug)) if slug else None
    if tenant is None:
        raise NotFound(f"Tenant {slug!r} not found.")
    return tenant


def _own_user(session: Session, staff: Staff) -> tuple[User, Tenant]:
    tenant = _tenant(session, staff.tenant)
    user = session.get(User, staff.user_id) if staff.user_id is not None else None
    if user is None or user.tenant_id != tenant.id or not user.active:
        raise NotFound(f"User {staff.username!r} not found in tenant {staff.tenant!r}.")
    return user, tenant


def status(rt: Runtime, staff: Staff) -> TwoFactorStatus:
    """Return the signed-in staff member's TOTP state and whether their tenant requires TOTP."""
    with rt.db.platform_session() as session:
        user, tenant = _own_user(session, staff)
        return TwoFactorStatus(username=user.username, enrolled=bool(user.totp_secret),
                               enrolment_due=user.totp_enrolment_due,
                               required=decode_config(tenant.settings).require_totp)


def check_identity(rt: Runtime, staff: Staff, password: str, code: str) -> str:
    """Check the password, and the current code when enrolled; return ``ok``, ``invalid`` or ``locked``.

    A failure counts towards the sign-in lockout, so this form cannot be used to guess a password
    faster than the sign-in form.
    """
    with rt.db.platform_session() as session:
        user, _ = _own_user(session, staff)
        session.expunge(user)
    if lockout.is_locked(rt.db, user.username, staff.ip):
        return "locked"
    valid = verify_password(user.password_hash, password)
    if valid and user.totp_secret:
        valid = code_is_valid(decrypt_secret(rt, user.totp_secret), code)
    if not valid:
        lockout.record_failure(rt.db, user.username, staff.ip)
        return "invalid"
    return "ok"


def save_own_secret(rt: Runtime, staff: Staff, secret: str) -> None:
    """Store the staff member's new, confirmed secret, audit it and end all their sessions."""
    with rt.db.platform_session() as session:
        user, tenant = _own_user(session, staff)
        action = "staff.totp_reset" if user.totp_secret else "staff.totp_enrol"
        user.totp_secret = encrypt_secret(rt, secret)
        user.totp_enrolment_due = False
        user_id, slug = user.id, tenant.slug
        session.commit()
    _audit(rt, slug, staff, action, user_id)
    end_sessions(rt.db, user_id)


def remove_own(rt: Runtime, staff: Staff) -> None:
    """Remove the staff member's TOTP, audit it and end all their sessions.

    Raises:
        TwoFactorChangeRejected: the tenant requires TOTP, or the user has none to remove.
    """
    with rt.db.platform_session() as session:
        user, tenant = _own_user(session, staff)
        if decode_config(tenant.settings).require_totp:
            raise TwoFactorChangeRejected(
                f"Tenant {tenant.slug!r} requires TOTP, so {user.username!r} can reset it but not remove it.")
        if not user.totp_secret:
            raise TwoFactorChangeRejected(f"User {user.username!r} has no TOTP to remove.")
        user.totp_secret = None
        user.totp_enrolment_due = False
        user_id, slug = user.id, tenant.slug
        session.commit()
    _audit(rt, slug, staff, "staff.totp_remove", user_id)
    end_sessions(rt.db, user_id)


def reset_for(rt: Runtime, admin: Staff, user_id: int) -> str:
    """Clear the TOTP of a staff member of the admin's tenant so they enrol again; return their username.

    Raises:
        PermissionDenied: ``admin`` is not a tenant admin.
        NotFound: no staff member ``user_id`` in the admin's tenant.
        TwoFactorChangeRejected: the admin targets themselves, which needs the password and code on
            their own account page instead.
    """
    if admin.role != ADMIN:
        raise PermissionDenied("Only a tenant admin can reset another staff member's TOTP.")
    with rt.db.platform_session() as session:
        tenant = _tenant(session, admin.tenant)
        user = session.get(User, user_id)
        if user is None or user.tenant_id != tenant.id or user.role not in TENANT_ROLES:
            raise NotFound(f"Staff member #{user_id} not found in tenant {tenant.slug!r}.")
        if user.id == admin.user_id:
            raise TwoFactorChangeRejected("Reset your own TOTP on your account page, with your password and code.")
        had_secret = bool(user.totp_secret)
        user.totp_secret = None
        user.totp_enrolment_due = True
        username, slug = user.username, tenant.slug
        session.commit()
    with rt.db.tenant_session(slug) as session:
        audit.record(session, actor=admin.actor, user_id=admin.user_id, action="staff.totp_reset",
                     target=f"user:{username}", ip=admin.ip, detail={"had_secret": had_secret})
        session.commit()
    end_sessions(rt.db, user_id)
    return username


def tenant_staff(rt: Runtime, slug: str) -> list[StaffMember]:
    """List the tenant's staff users by username."""
    with rt.db.platform_session() as session:
        tenant = _tenant(session, slug)
        users = session.scalars(select(User).where(User.tenant_id == tenant.id, User.role.in_(TENANT_ROLES))
                                .order_by(User.username))
        return [StaffMember(user_id=user.id, username=user.username, full_name=user.full_name, role=user.role,
                            active=user.active, enrolled=bool(user.totp_secret),
                            enrolment_due=user.totp_enrolment_due)
                for user in users]


def _audit(rt: Runtime, slug: str, staff: Staff, action: str, user_id: int) -> None:
    with rt.db.tenant_session(slug) as session:
        audit.record(session, actor=staff.actor, user_id=user_id, action=action, target=f"user:{staff.username}",
                     ip=staff.ip)
        session.commit()
