"""Channel accounts the platform owns and tenants share, and the messages each tenant sends through them.

A tenant chooses a shared account per message kind in ``TenantConfig.channel_accounts``. Messages
of that kind then go out with the account's plugin settings instead of the tenant's own
``channel_settings``, which stay as they were. Every message sent through a shared account adds
one to a counter per tenant, account, month and kind, so the platform can bill the use back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import SharedAccount, SharedAccountUsage, Tenant
from bolletta.platform.dispatch import secrets
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import tenant_config

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class AccountInUse(ConfigurationError):
    """The shared account is still chosen by tenants, so it cannot be deleted."""

    def __init__(self, name: str, tenants: list[str]) -> None:
        self.tenants = tenants
        super().__init__(f"Shared account {name!r} is used by {', '.join(tenants)}; "
                         "choose another account for those tenants first.")


def all_accounts(rt: Runtime) -> list[SharedAccount]:
    """Return every shared account by name, detached from its session."""
    with rt.db.platform_session() as session:
        accounts = list(session.scalars(select(SharedAccount).order_by(SharedAccount.name)))
        session.expunge_all()
    return accounts


def get_account(rt: Runtime, name: str) -> SharedAccount | None:
    return find_account(rt.db, name)


def find_account(db: Database, name: str) -> SharedAccount | None:
    """Return the shared account named ``name``, detached from its session, or ``None``."""
    with db.platform_session() as session:
        account = session.get(SharedAccount, name)
        if account is not None:
            session.expunge(account)
    return account


def save_account(rt: Runtime, name: str, plugin_id: str, values: Mapping[str, Any],
                 secret_fields: Iterable[str]) -> SharedAccount:
    """Create or update account ``name``; an empty secret keeps the stored one.

    Raises:
        ConfigurationError: the name is not lowercase letters, digits, ``-`` and ``_``, or an
            existing account with that name uses another plugin.
    """
    if not NAME.match(name):
        raise ConfigurationError(
            f"Account name {name!r} is not valid; use up to 64 lowercase letters, digits, '-' or '_'.")
    now = clock.now()
    with rt.db.platform_session() as session:
        account = session.get(SharedAccount, name)
        if account is None:
            account = SharedAccount(name=name, plugin=plugin_id, settings={}, created_at=now)
            session.add(account)
        elif account.plugin != plugin_id:
            raise ConfigurationError(
                f"Shared account {name!r} uses plugin {account.plugin!r}, not {plugin_id!r}; "
                "add a new account for another plugin.")
        account.settings = secrets.conceal(rt, values, secret_fields, stored=account.settings)
        account.updated_at = now
        session.commit()
        session.refresh(account)
        session.expunge(account)
    return account


def tenants_using(rt: Runtime, name: str) -> list[str]:
    """Return the slugs of the tenants whose settings choose account ``name`` for any kind."""
    with rt.db.platform_session() as session:
        tenants = list(session.scalars(select(Tenant).order_by(Tenant.slug)))
    return [tenant.slug for tenant in tenants if name in tenant_config(tenant).channel_accounts.values()]


def delete_account(rt: Runtime, name: str) -> None:
    """Delete account ``name`` and keep its usage history.

    Raises:
        AccountInUse: a tenant still chooses it.
    """
    users = tenants_using(rt, name)
    if users:
        raise AccountInUse(name, users)
    with rt.db.platform_session() as session:
        session.execute(delete(SharedAccount).where(SharedAccount.name == name))
        session.commit()


def account_for(rt: Runtime, config: TenantConfig, kind: str | None, plugin_id: str) -> SharedAccount | None:
    """Return the shared account the tenant chose for ``kind``, when it serves messages through ``plugin_id``.

    Raises:
        ConfigurationError: the chosen account no longer exists, or uses another plugin than the
            one the message was queued for.
    """
    name = config.channel_accounts.get(kind or "")
    if not name:
        return None
    account = get_account(rt, name)
    if account is None:
        raise ConfigurationError(f"Shared account {name!r} chosen for {kind} messages does not exist; "
                                 "a platform admin must choose an existing account or the tenant's own.")
    if account.plugin != plugin_id:
        raise ConfigurationError(f"Shared account {name!r} uses plugin {account.plugin!r}, but the message "
                                 f"was queued for {plugin_id!r}; set the {kind} plugin to {account.plugin!r}.")
    return account


def month_of(moment: datetime) -> str:
    return clock.as_utc(moment).strftime("%Y-%m")


def count_usage(session: Session, tenant: str, account: str, kind: str, sent: int, month: str) -> None:
    """Add ``sent`` messages to the counter in one statement that concurrent workers may run together.

    The row is inserted or incremented by the database (``INSERT ... ON CONFLICT DO UPDATE``), so
    two workers counting the same month at once both land and neither overwrites the other.
    """
    if sent <= 0:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(SharedAccountUsage).values(tenant=tenant, account=account, month=month, kind=kind, count=sent)
    session.execute(statement.on_conflict_do_update(
        index_elements=["tenant", "account", "month", "kind"],
        set_={"count": SharedAccountUsage.count + statement.excluded.count},
    ))


def record_sent(rt: Runtime, tenant: str, counts: Mapping[tuple[str, str], int]) -> None:
    """Count the messages just sent, keyed by (account, kind), in the current month."""
    counts = {key: sent for key, sent in counts.items() if sent > 0}
    if not counts:
        return
    month = month_of(clock.now())
    with rt.db.platform_session() as session:
        for (account, kind), sent in sorted(counts.items()):
            count_usage(session, tenant, account, kind, sent, month)
        session.commit()


def usage(rt: Runtime, account: str) -> list[SharedAccountUsage]:
    """Return the account's counters, newest month first, then by tenant and kind."""
    with rt.db.platform_session() as session:
        rows = list(session.scalars(
            select(SharedAccountUsage).where(SharedAccountUsage.account == account)
            .order_by(SharedAccountUsage.month.desc(), SharedAccountUsage.tenant, SharedAccountUsage.kind)))
        session.expunge_all()
    return rows
