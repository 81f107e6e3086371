"""Files an e-mail carries: the bill PDF of a "Boll. x email" message, and the tenant's inline header image."""

from __future__ import annotations

import logging
import re
import threading

from bolletta.channels.base import Attachment
from bolletta.platform.db.models.tenant import Bill, Ticket
from bolletta.platform.dispatch.rendering import EMAIL_HEADER_CID
from bolletta.platform.runtime import Runtime
from bolletta.platform.storage import tenant_key
from bolletta.tenants.config import TenantConfig

logger = logging.getLogger(__name__)

MAX_CACHED_IMAGES = 64
"""Header images kept in memory, so a mass dispatch reads each from storage once per worker process.
Keys end with the image's hash (``images.email_header_key``), so a cached image never goes stale
unless a key is reused for other content."""
_header_images: dict[str, bytes] = {}
_header_images_lock = threading.Lock()
_missing_images: set[str] = set()
"""Keys already logged as missing."""


def bill_attachments(rt: Runtime, config: TenantConfig, ticket: Ticket, bill: Bill) -> tuple[Attachment, ...]:
    """Return the bill's PDF for a ``bill_email`` ticket of a tenant set to ``attach``; else nothing.

    A bill without a stored PDF goes with its link only, and the gap is logged.
    """
    if ticket.origin != "bill_email" or config.bills_by_email != "attach" or ticket.channel != "email":
        return ()
    if not bill.pdf_key:
        logger.warning("bill %d has no PDF to attach; the e-mail carries the link only", bill.id)
        return ()
    try:
        data = rt.storage.get(bill.pdf_key)
    except FileNotFoundError:
        logger.warning("bill %d: stored PDF is missing; the e-mail carries the link only", bill.id)
        return ()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", bill.document_number)
    return (Attachment(filename=f"bolletta_{name}.pdf", content_type="application/pdf", data=data),)


def email_images(rt: Runtime, tenant: str, config: TenantConfig, html: str | None) -> tuple[Attachment, ...]:
    """Return the tenant's e-mail header image as an inline part of an HTML e-mail, else nothing.

    The image travels inside the message, so no mail client fetches anything from a remote server.
    A missing stored image is logged and the e-mail goes without it.
    """
    if not html or not config.email_header_key:
        return ()
    full_key = tenant_key(tenant, config.email_header_key)
    try:
        data = _header_images.get(full_key) or rt.storage.get(full_key)
    except FileNotFoundError:
        with _header_images_lock:
            first = full_key not in _missing_images
            _missing_images.add(full_key)
        if first:  # once per worker process, not once per e-mail of a mass dispatch
            logger.warning("tenant %s: the e-mail header image %s is missing; e-mails go without it until it "
                           "is uploaded again", tenant, config.email_header_key)
        return ()
    with _header_images_lock:
        if len(_header_images) >= MAX_CACHED_IMAGES:
            _header_images.clear()
        _header_images[full_key] = data
    extension = "png" if config.email_header_type == "image/png" else "jpg"
    return (Attachment(filename=f"header.{extension}", content_type=config.email_header_type, data=data,
                       content_id=EMAIL_HEADER_CID),)
