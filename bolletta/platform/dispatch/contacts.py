"""Contact selection for a bill: its flow's contacts, else the job's contacts file, else the directory.

A tenant may leave a source out (``TenantConfig.contact_sources``); the order of the others stays.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolletta.platform.db.models.tenant import Bill, Contact

CONTACT_SOURCES = ("flow", "job_csv", "directory")
"""Contact sources, best first: the flow itself, the job's contacts CSV, the contacts directory."""


def contacts_for(session: Session, bill: Bill, sources: Sequence[str] = CONTACT_SOURCES) -> list[Contact]:
    """Return the bill's usable contacts, one per channel and address, from the best of ``sources`` available."""
    from_job = _allowed(session.scalars(
        select(Contact)
        .where(Contact.customer_code == bill.customer_code, Contact.job_id == bill.job_id)
        .order_by(Contact.id)
    ).all(), sources)
    from_flow = [contact for contact in from_job if contact.source == "flow"]
    if from_flow:
        return _unique(from_flow)
    if from_job:
        return _unique(from_job)
    if "directory" not in sources:
        return []
    from_directory = session.scalars(
        select(Contact)
        .where(Contact.customer_code == bill.customer_code, Contact.source == "directory")
        .order_by(Contact.id.desc())
    ).all()
    return _unique(from_directory)


class BillKey(Protocol):
    """The columns of a bill that choose its contacts: a ``Bill`` or a row of those columns."""

    @property
    def id(self) -> int: ...
    @property
    def job_id(self) -> int: ...
    @property
    def customer_code(self) -> str: ...


def contacts_for_bills(session: Session, bills: Sequence[BillKey],
                       sources: Sequence[str] = CONTACT_SOURCES) -> dict[int, list[Contact]]:
    """Return ``contacts_for`` of every bill, keyed by bill id, in two queries for the whole batch.

    The precedence and order are those of ``contacts_for``: the flow's contacts, else the job's
    (ordered by id), else the directory's (newest first).
    """
    codes = {bill.customer_code for bill in bills}
    from_jobs: dict[tuple[int | None, str], list[Contact]] = defaultdict(list)
    for contact in _allowed(session.scalars(
        select(Contact)
        .where(Contact.job_id.in_({bill.job_id for bill in bills}), Contact.customer_code.in_(codes))
        .order_by(Contact.id)
    ).all(), sources):
        from_jobs[(contact.job_id, contact.customer_code)].append(contact)

    directory_codes = {bill.customer_code for bill in bills if (bill.job_id, bill.customer_code) not in from_jobs}
    if "directory" not in sources:
        directory_codes = set()
    from_directory: dict[str, list[Contact]] = defaultdict(list)
    if directory_codes:
        for contact in session.scalars(
            select(Contact)
            .where(Contact.customer_code.in_(directory_codes), Contact.source == "directory")
            .order_by(Contact.id.desc())
        ):
            from_directory[contact.customer_code].append(contact)

    result: dict[int, list[Contact]] = {}
    for bill in bills:
        from_job = from_jobs.get((bill.job_id, bill.customer_code), [])
        from_flow = [contact for contact in from_job if contact.source == "flow"]
        if from_flow:
            result[bill.id] = _unique(from_flow)
        elif from_job:
            result[bill.id] = _unique(from_job)
        else:
            result[bill.id] = _unique(from_directory.get(bill.customer_code, []))
    return result


def _allowed(contacts: Sequence[Contact], sources: Sequence[str]) -> list[Contact]:
    """Keep the job's contacts whose source is allowed; every contact not from the flow came from the job's CSV."""
    return [contact for contact in contacts
            if (contact.source == "flow" and "flow" in sources) or (contact.source != "flow" and "job_csv" in sources)]


def _unique(contacts: Sequence[Contact]) -> list[Contact]:
    seen: set[tuple[str, str]] = set()
    result: list[Contact] = []
    for contact in contacts:
        key = (contact.channel, contact.address)
        if key not in seen:
            seen.add(key)
            result.append(contact)
    return result



def contact_language(session: Session, customer_code: str, channel: str, address: str) -> str | None:
    """Return the language on file for a customer's contact, from its newest record that has one."""
    return session.scalar(
        select(Contact.language)
        .where(Contact.customer_code == customer_code, Contact.channel == channel, Contact.address == address,
               Contact.language.is_not(None))
        .order_by(Contact.id.desc())
        .limit(1)
    )


def contact_languages(session: Session, contacts: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
    """Return :func:`contact_language` of each ``(customer code, channel, address)`` that has one, in one query."""
    if not contacts:
        return {}
    wanted = set(contacts)
    languages: dict[tuple[str, str, str], str] = {}
    for code, channel, address, language in session.execute(
        select(Contact.customer_code, Contact.channel, Contact.address, Contact.language)
        .where(Contact.customer_code.in_({code for code, _channel, _address in wanted}),
               Contact.language.is_not(None))
        .order_by(Contact.id.desc())
    ):
        if (code, channel, address) in wanted and language:
            languages.setdefault((code, channel, address), language)
    return languages
