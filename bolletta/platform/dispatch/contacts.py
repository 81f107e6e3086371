"""Contact selection for a bill: its flow's contacts, else the job's contacts file, else the directory."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolletta.platform.db.models.tenant import Bill, Contact


def contacts_for(session: Session, bill: Bill) -> list[Contact]:
    """Return the bill's usable contacts, one per channel and address, from the best source available."""
    from_job = session.scalars(
        select(Contact)
        .where(Contact.customer_code == bill.customer_code, Contact.job_id == bill.job_id)
        .order_by(Contact.id)
    ).all()
    from_flow = [contact for contact in from_job if contact.source == "flow"]
    if from_flow:
        return _unique(from_flow)
    if from_job:
        return _unique(from_job)
    from_directory = session.scalars(
        select(Contact)
        .where(Contact.customer_code == bill.customer_code, Contact.source == "directory")
        .order_by(Contact.id.desc())
    ).all()
    return _unique(from_directory)


def _unique(contacts: Sequence[Contact]) -> list[Contact]:
    seen: set[tuple[str, str]] = set()
    result: list[Contact] = []
    for contact in contacts:
        key = (contact.channel, contact.address)
        if key not in seen:
            seen.add(key)
            result.append(contact)
    return result
