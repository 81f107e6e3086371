"""API tokens of a tenant: issue, list, revoke, and resolve the bearer token of a request.

A token is ``bst_`` plus 43 URL-safe base64 characters (32 bytes, 256 bits, from ``secrets``).
Only its SHA-256 is stored: the token has enough entropy that a plain hash cannot be brute-forced,
and unlike an HMAC with a key derived from the master secret it survives a rotation of that secret.
The token is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from bolletta.platform import clock
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import ApiToken, PlatformAuditEntry, Tenant
from bolletta.platform.errors import BollettaError, NotFound
from bolletta.tenants.registry import get_tenant

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "bst_"  # noqa: S105 (a fixed prefix that marks the string as a Bolletta Smart token)
TOKEN_BYTES = 32
HINT_RANDOM_CHARS = 4
MAX_NAME_LENGTH = 100

SCOPE_JOBS_WRITE = "jobs:write"
SCOPE_JOBS_READ = "jobs:read"
SCOPE_CONTACTS_WRITE = "contacts:write"
SCOPE_TICKETS_READ = "tickets:read"
SCOPE_BILLS_READ = "bills:read"
SCOPE_STATS_READ = "stats:read"
SCOPE_CONTACTS_READ = "contacts:read"
"""Shows customers' contacts in full in ticket and bill responses, each response audited; masked without it."""
SCOPES = (SCOPE_JOBS_WRITE, SCOPE_JOBS_READ, SCOPE_TICKETS_READ, SCOPE_BILLS_READ, SCOPE_STATS_READ,
          SCOPE_CONTACTS_WRITE, SCOPE_CONTACTS_READ)
"""Every scope a token can hold."""


class InvalidTokenRequest(BollettaError):
    """Raised when a token cannot be created or revoked as asked (unknown scope, empty name)."""


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: the only moment its clear value exists."""

    id: int
    tenant: str
    name: str
    scopes: tuple[str, ...]
    token: str


@dataclass(frozen=True)
class ApiCaller:
    """The tenant and scopes behind a valid bearer token."""

    token_id: int
    token_name: str
    tenant: str
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        """The form stored in job transitions and audit entries."""
        return f"api:token-{self.token_id}"


def token_digest(token: str) -> str:
    """Hex SHA-256 of ``token``, the value stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def _check_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if not scopes:
        raise InvalidTokenRequest(f"Give at least one scope; valid scopes: {', '.join(SCOPES)}.")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidTokenRequest(f"Unknown scope {', '.join(unknown)}; valid scopes: {', '.join(SCOPES)}.")
    return tuple(dict.fromkeys(scopes))


def create_token(
    db: Database, tenant_slug: str, name: str, scopes: list[str] | tuple[str, ...], *, created_by: str
) -> IssuedToken:
    """Create a token for ``tenant_slug`` with ``scopes`` and audit it; the result contains the clear token.

    Raises:
        NotFound: the tenant does not exist.
        InvalidTokenRequest: the name is empty or too long, or a scope is unknown.
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidTokenRequest(f"The token name must have 1 to {MAX_NAME_LENGTH} characters.")
    granted = _check_scopes(scopes)
    tenant = get_tenant(db, tenant_slug)

    random_part = secrets.token_urlsafe(TOKEN_BYTES)
    token = TOKEN_PREFIX + random_part
    now = clock.now()
    with db.platform_session() as session:
        row = ApiToken(
            tenant_id=tenant.id, name=name, token_sha256=token_digest(token),
            hint=TOKEN_PREFIX + random_part[:HINT_RANDOM_CHARS], scopes=list(granted), created_at=now,
            created_by=created_by,
        )
        session.add(row)
        session.flush()
        session.add(PlatformAuditEntry(
            at=now, actor=created_by, action="api_token.create", target=f"api_token:{row.id}",
            detail={"tenant": tenant.slug, "name": name, "scopes": list(granted)},
        ))
        session.commit()
        token_id = row.id
    logger.info("tenant %s: API token %d (%s) created by %s with scopes %s",
                tenant.slug, token_id, name, created_by, ",".join(granted))
    return IssuedToken(id=token_id, tenant=tenant.slug, name=name, scopes=granted, token=token)


def revoke_token(db: Database, token_id: int, *, revoked_by: str) -> ApiToken:
    """Revoke token ``token_id`` at once and audit it; revoking it again changes nothing.

    Raises:
        NotFound: no token has that id.
    """
    with db.platform_session() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"API token #{token_id} not found.")
        if row.revoked_at is None:
            now = clock.now()
            row.revoked_at = now
            session.add(PlatformAuditEntry(
                at=now, actor=revoked_by, action="api_token.revoke", target=f"api_token:{row.id}",
                detail={"tenant_id": row.tenant_id, "name": row.name},
            ))
            session.commit()
            logger.info("API token %d revoked by %s", token_id, revoked_by)
        return row


def list_tokens(db: Database, tenant_slug: str) -> list[ApiToken]:
    """Return the tenant's tokens, revoked ones included, oldest first."""
    tenant = get_tenant(db, tenant_slug)
    with db.platform_session() as session:
        return list(session.scalars(select(ApiToken).where(ApiToken.tenant_id == tenant.id).order_by(ApiToken.id)))


async def resolve_token(db: Database, token: str) -> ApiCaller | None:
    """Look up the caller behind ``token`` and record its use; ``None`` when unknown, revoked or of an inactive tenant.

    The lookup is by the token's SHA-256 in a unique index, so no comparison runs on the clear token.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    async with db.platform_async_session() as session:
        row = (
            await session.execute(
                select(ApiToken, Tenant.slug)
                .join(Tenant, Tenant.id == ApiToken.tenant_id)
                .where(ApiToken.token_sha256 == token_digest(token), ApiToken.revoked_at.is_(None),
                       Tenant.status == "active")
            )
        ).first()
        if row is None:
            return None
        api_token, slug = row
        await session.execute(update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=clock.now()))
        await session.commit()
    return ApiCaller(token_id=api_token.id, token_name=api_token.name, tenant=slug,
                     scopes=frozenset(api_token.scopes))
