"""Data subject requests as the CLI and the backoffice run them: find the customer, then export or erase."""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy import select

from bolletta.platform.db.models.platform import User
from bolletta.platform.errors import NotFound, PermissionDenied
from bolletta.platform.privacy.erasure import ErasureResult, erase_subject
from bolletta.platform.privacy.export import Requester, write_archive
from bolletta.platform.privacy.subjects import Subject, find_subject
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import get_tenant

ADMIN_ROLES = ("platform_admin", "tenant_admin")


def load_subject(rt: Runtime, tenant: str, *, customer_code: str | None, fiscal_code: str | None) -> Subject:
    """Find the customer in the tenant's data; see :func:`find_subject` for the errors."""
    with rt.db.tenant_session(tenant) as session:
        return find_subject(session, customer_code=customer_code, fiscal_code=fiscal_code)


def admin_requester(rt: Runtime, tenant: str, username: str) -> Requester:
    """Return the active admin ``username`` of ``tenant`` (or a platform admin) as the requester.

    Raises:
        NotFound: no active user has that name.
        PermissionDenied: the user is not an admin of the tenant.
    """
    tenant_id = get_tenant(rt.db, tenant).id
    with rt.db.platform_session() as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise NotFound(f"No active user {username!r}. Pass the username of a staff account with --by.")
    if user.role not in ADMIN_ROLES or (user.role == "tenant_admin" and user.tenant_id != tenant_id):
        raise PermissionDenied(f"User {username!r} is not an admin of tenant {tenant}; ask one of its admins.")
    return Requester(username=user.username, user_id=user.id)


def export_customer(
    rt: Runtime, tenant: str, target: BinaryIO, requester: Requester, *,
    customer_code: str | None = None, fiscal_code: str | None = None,
) -> dict[str, int]:
    """Write the customer's archive to ``target`` and return the count of each kind of row."""
    subject = load_subject(rt, tenant, customer_code=customer_code, fiscal_code=fiscal_code)
    return write_archive(rt, tenant, subject, target, requester)


def erase_customer(
    rt: Runtime, tenant: str, requester: Requester, *,
    customer_code: str | None = None, fiscal_code: str | None = None,
) -> ErasureResult:
    """Erase the customer's personal data and return what changed."""
    subject = load_subject(rt, tenant, customer_code=customer_code, fiscal_code=fiscal_code)
    return erase_subject(rt, tenant, subject, requester)
