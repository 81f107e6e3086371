"""The bill PDF attached to a "Boll. x email" message, when the tenant sends bills as attachments."""

from __future__ import annotations

import logging
import re

from bolletta.channels.base import Attachment
from bolletta.platform.db.models.tenant import Bill, Ticket
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import TenantConfig

logger = logging.getLogger(__name__)


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
