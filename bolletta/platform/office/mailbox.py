""""Posta di prova": the messages the demo's mail catcher and the ``outbox`` channel hold.

The ``outbox`` channel keeps its messages in the tenant's own ``stored_messages`` table. The mail
catcher writes every message it receives as ``<n>.eml`` under the data folder's ``mail``. It serves
every tenant, so only messages whose ``From`` address is the tenant's configured e-mail sender are
listed here. An HTML body is shown inside a sandboxed ``iframe`` (no scripts, no same origin, no
forms) through ``srcdoc``, with a Content-Security-Policy that blocks remote content, so a message
can never run code in the backoffice or call home.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

import anyio
from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from markupsafe import Markup, escape
from sqlalchemy import select

from bolletta.platform import audit
from bolletta.platform.db.models.tenant import StoredMessage
from bolletta.platform.office.access import page, require_acting, staff_of
from bolletta.platform.office.routes import _tenant
from bolletta.platform.privacy import mask_contact
from bolletta.platform.web.context import rt
from bolletta.tenants.config import decode_config

logger = logging.getLogger(__name__)

LISTED = 100
FRAME_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True)
class Mail:
    """One message for the list and the detail, from either source."""

    source: str
    """``outbox`` or ``catcher``."""
    key: str
    kind: str
    to: str
    sender: str
    subject: str
    at: datetime | None
    text: str
    html: str | None
    headers: list[tuple[str, str]]


def _mail_dir() -> Path:
    return rt().settings.data_path / "mail"


def _sender_address(tenant_settings: Any) -> str:
    return parseaddr(decode_config(tenant_settings).email_sender)[1].lower()


def _parse_eml(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)  # type: ignore[return-value]


def _from_eml(key: str, message: EmailMessage) -> Mail:
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    try:
        at = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        at = None
    return Mail(source="catcher", key=key, kind="email", to=str(message["To"] or ""), sender=str(message["From"] or ""),
                subject=str(message["Subject"] or ""), at=at,
                text=text_part.get_content() if text_part is not None else "",  # type: ignore[attr-defined]
                html=html_part.get_content() if html_part is not None else None,  # type: ignore[attr-defined]
                headers=[(name, str(value)) for name, value in message.items()])


def _caught(sender: str, only: str | None = None) -> list[Mail]:
    folder = _mail_dir()
    if not sender or not folder.is_dir():
        return []
    names = [f"{only}.eml"] if only else sorted((p.name for p in folder.glob("*.eml")),
                                                key=lambda name: int(name.split(".")[0]), reverse=True)
    found = []
    for name in names[: LISTED * 5]:
        path = folder / name
        if not path.is_file() or not name.split(".")[0].isdigit():
            continue
        message = _parse_eml(path)
        if parseaddr(str(message["From"] or ""))[1].lower() == sender:
            found.append(_from_eml(name.split(".")[0], message))
        if len(found) >= LISTED:
            break
    return found


def _from_stored(row: StoredMessage) -> Mail:
    return Mail(source="outbox", key=str(row.id), kind=row.kind, to=row.to_address, sender=row.plugin,
                subject=row.subject or "", at=row.created_at, text=row.text, html=row.html,
                headers=[("Plugin", row.plugin), ("Kind", row.kind), ("To", row.to_address)])


def _stored(tenant: str, only: int | None = None) -> list[Mail]:
    with rt().db.tenant_session(tenant) as session:
        query = select(StoredMessage).order_by(StoredMessage.id.desc()).limit(LISTED)
        if only is not None:
            query = select(StoredMessage).where(StoredMessage.id == only)
        return [_from_stored(row) for row in session.scalars(query)]


def framed(html: str) -> Markup:
    """Wrap the HTML body in a sandboxed iframe that allows nothing; remote content is blocked by CSP."""
    document = f'<meta http-equiv="Content-Security-Policy" content="{FRAME_POLICY}">{html}'
    return Markup('<iframe class="mail-body" sandbox="" referrerpolicy="no-referrer" title="{}" srcdoc="{}">'
                  "</iframe>").format("HTML", escape(document))


# The test mail holds full contacts and working customer links, so only staff allowed to see full
# contacts read it, and each message opened is audited like a revealed contact.
@get("/mailbox", name="office:mailbox", guards=[require_acting])
async def mailbox(request: Request[Any, Any, Any]) -> Response[str]:
    """List the tenant's test mail: outbox messages and caught e-mails, newest first."""
    tenant = await _tenant(staff_of(request))
    sender = _sender_address(tenant.settings)
    stored = await anyio.to_thread.run_sync(_stored, tenant.slug)
    caught = await anyio.to_thread.run_sync(_caught, sender)
    return page(request, "office/mailbox.html", tenant, stored=stored, caught=caught, mask=mask_contact)


@get("/mailbox/{source:str}/{key:int}", name="office:mail", guards=[require_acting])
async def mail_detail(request: Request[Any, Any, Any], source: FromPath[str], key: FromPath[int]) -> Response[str]:
    """Show one message: headers, text, and the HTML rendered in a sandbox."""
    tenant = await _tenant(staff_of(request))
    if source == "outbox":
        found = await anyio.to_thread.run_sync(_stored, tenant.slug, key)
    elif source == "catcher":
        found = await anyio.to_thread.run_sync(_caught, _sender_address(tenant.settings), str(key))
    else:
        found = []
    if not found:
        raise NotFoundException()
    mail = found[0]
    staff = staff_of(request)

    def record() -> None:
        with rt().db.tenant_session(tenant.slug) as session:
            audit.record(session, actor=staff.actor, user_id=staff.user_id, action="mailbox.message_viewed",
                         target=f"{source}:{key}", ip=staff.ip)
            session.commit()

    await anyio.to_thread.run_sync(record)
    return page(request, "office/mail.html", tenant, mail=mail, frame=framed(mail.html) if mail.html else None)


def mailbox_router() -> Router:
    """Build the test mail routes under ``/office``."""
    return Router(path="/office", route_handlers=[mailbox, mail_detail])
