"""Rendered bill pages kept in the tenant's storage, so each page state is rendered once for all processes.

:data:`cache.PAGES` keeps pages per process. This second level stores them under
``pages/<public id>/<key digest>.html`` in the tenant's storage, which every web process and worker
shares. The key (:class:`PageKey`) contains everything a page shows that can change: the settings
digest, the bill's payment state, the language, the day (for "overdue") and the code and templates
that render it (:data:`RENDER_DIGEST`). A change of any of them makes a new key, so a stored page is
never edited, only left behind. A bill edited through the ORM drops its stored pages when the edit
commits (:func:`purge_after_commit`), unless only its review warnings changed. Erasure and retention
delete the ``pages/<public id>/`` folder with the bill's other files.

NOTE: a bulk ``UPDATE`` of bills does not drop their pages. Such a change must be part of the key
or delete the folder itself, as erasure does. Pages of earlier days and payment states stay in the
folder until then, a few files of some 10 KB per page a customer opened.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.errors import BollettaError
from bolletta.platform.portal import cache
from bolletta.platform.storage import Storage

logger = logging.getLogger(__name__)

PAGES_FOLDER = "pages"
_PACKAGE_DIR = Path(__file__).resolve().parents[2]
_RENDER_INPUTS = (
    _PACKAGE_DIR / "themes" / "base" / "templates",
    _PACKAGE_DIR / "themes" / "base" / "locale",
    _PACKAGE_DIR / "platform" / "portal",
    _PACKAGE_DIR / "platform" / "i18n",
)
_EDITED_KEY = "portal_edited_bills"
STAFF_ONLY_ATTRIBUTES = frozenset({"warnings"})
"""Bill attributes no customer page shows: the review rewrites them for whole jobs, and dropping
every bill's folder then would cost a storage listing per bill."""


def _render_digest() -> str:
    """Digest of the templates, catalogs and page code, so a deployment that changes them misses old pages."""
    digest = hashlib.sha256()
    for folder in _RENDER_INPUTS:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".html", ".po", ".py", ".svg", ".txt"):
                digest.update(path.relative_to(_PACKAGE_DIR).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


RENDER_DIGEST = _render_digest()


@dataclass(frozen=True)
class PageKey:
    """What one rendered bill page depends on; pages with equal keys are byte for byte the same."""

    tenant: str
    public_id: str
    section: str
    language: str
    payment_return: str | None
    """The ``?payment=`` outcome the page reports after a payment attempt, else ``None``."""
    settings_digest: str
    payment_state: tuple[Any, ...]
    """``BillAccess.payment_state``: paid time, unpaid instalments, attempts, last change, attempts in check."""
    day: date
    """The day in Rome, because a bill becomes overdue at midnight."""

    def storage_key(self) -> str:
        """Return the key below the tenant's prefix."""
        fields = (RENDER_DIGEST, self.section, self.language, self.payment_return, self.settings_digest,
                  *(str(value) for value in self.payment_state), self.day.isoformat())
        digest = hashlib.sha256("\x1f".join(str(value) for value in fields).encode()).hexdigest()[:32]
        return f"{PAGES_FOLDER}/{self.public_id}/{digest}.html"


def load(storage: Storage, key: PageKey) -> str | None:
    """Return the stored page of ``key``, or ``None`` when no process stored it yet."""
    try:
        return storage.get(f"{key.tenant}/{key.storage_key()}").decode()
    except FileNotFoundError:
        return None


def save(storage: Storage, key: PageKey, html: str) -> None:
    """Store the page of ``key``; a failure only costs a render elsewhere, so it is logged, not raised."""
    try:
        storage.put(key.tenant, key.storage_key(), html.encode())
    except OSError:
        logger.exception("tenant %s: storing a rendered bill page failed", key.tenant)


async def load_async(storage: Storage, key: PageKey) -> str | None:
    """Run :func:`load` in a thread, off the event loop."""
    return await anyio.to_thread.run_sync(load, storage, key)


async def save_async(storage: Storage, key: PageKey, html: str) -> None:
    """Run :func:`save` in a thread, off the event loop."""
    await anyio.to_thread.run_sync(save, storage, key, html)


def purge(storage: Storage, tenant: str, public_ids: set[str]) -> int:
    """Delete the stored pages of these bills and drop them from this process's page cache."""
    removed = 0
    for public_id in public_ids:
        removed += storage.delete_prefix(tenant, f"{PAGES_FOLDER}/{public_id}")
    cache.PAGES.forget_where(lambda key: isinstance(key, PageKey) and key.public_id in public_ids)
    return removed


def _changes_pages(bill: Bill) -> bool:
    """Return whether the flush changes a bill attribute that pages may show."""
    return any(attribute.history.has_changes() for attribute in inspect(bill).attrs
               if attribute.key not in STAFF_ONLY_ATTRIBUTES)


@event.listens_for(Session, "after_flush")
def _note_edited_bills(session: Session, _flush: UOWTransaction) -> None:
    edited = {item.public_id for item in session.dirty if isinstance(item, Bill) and _changes_pages(item)}
    edited.update(item.public_id for item in session.deleted if isinstance(item, Bill))
    if edited:
        session.info.setdefault(_EDITED_KEY, set()).update(edited)


@event.listens_for(Session, "after_commit")
def purge_after_commit(session: Session) -> None:
    """Delete the stored pages of the bills this commit changed through the ORM."""
    edited = session.info.pop(_EDITED_KEY, None)
    tenant = session.info.get("tenant")
    if not edited or tenant is None:
        return
    from bolletta.platform import runtime

    try:
        purge(runtime.current().storage, tenant, edited)
    except (OSError, BollettaError):
        logger.exception("tenant %s: deleting the stored pages of %d edited bills failed", tenant, len(edited))


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_EDITED_KEY, None)
