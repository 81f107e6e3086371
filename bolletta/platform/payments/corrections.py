"""Payments made against a bill that a corrected re-issue has since replaced.

A corrected bill is a new document number, as in billing practice, so nothing in the flow links it
to the bill it corrects. The platform takes as a correction a later bill, from another job, for the
same customer code, service, POD/PDR and billing period that is not a credit note. A payment keeps
the attempt's amount and its own bill. When that bill has a correction for another amount, the
payment is flagged ``bill_corrected`` for staff, and the corrected bill stays unpaid.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session, aliased

from bolletta.platform.db.models.tenant import Bill, Payment

CORRECTED_FLAG = "bill_corrected"
"""``Payment.flag`` of a payment whose bill was re-issued for a different amount."""


def _same_supply_and_period(later: type[Bill], earlier: type[Bill]) -> ColumnElement[bool]:
    return and_(
        later.customer_code == earlier.customer_code,
        later.service == earlier.service,
        func.coalesce(later.pod, "") == func.coalesce(earlier.pod, ""),
        func.coalesce(later.pdr, "") == func.coalesce(earlier.pdr, ""),
        later.period_from == earlier.period_from,
        later.period_to == earlier.period_to,
        later.id > earlier.id,
        later.job_id != earlier.job_id,
        later.document_type != "TD04",
    )


def corrections_of(session: Session, bill: Bill) -> list[Bill]:
    """Return the later bills that re-issue ``bill``, oldest first.

    A bill without a billing period has no corrections, because the period is what ties a re-issue
    to the bill it replaces.
    """
    if bill.period_from is None or bill.period_to is None:
        return []
    later = aliased(Bill)
    query = (select(later).join(Bill, _same_supply_and_period(later, Bill))  # type: ignore[arg-type]
             .where(Bill.id == bill.id).order_by(later.id))
    return list(session.scalars(query))


def originals_of(session: Session, bill: Bill) -> list[Bill]:
    """Return the earlier bills that ``bill`` re-issues, oldest first (the reverse of :func:`corrections_of`)."""
    if bill.period_from is None or bill.period_to is None:
        return []
    earlier = aliased(Bill)
    query = (select(earlier).join(Bill, _same_supply_and_period(Bill, earlier))  # type: ignore[arg-type]
             .where(Bill.id == bill.id).order_by(earlier.id))
    return list(session.scalars(query))


def amount_corrected(session: Session, bill: Bill) -> bool:
    """Return whether a re-issue of ``bill`` has a different amount due."""
    return any(item.amount_due != bill.amount_due for item in corrections_of(session, bill))


def flag_payments_of_corrected(session: Session, job_id: int) -> int:
    """Flag the completed, unflagged payments whose bill job ``job_id`` re-issued for another amount.

    Covers a correction that arrives after the payment completed; one that arrives before is
    flagged when the completion is applied. Returns the number of payments flagged.
    """
    # NOTE: the flag is set when the job is parsed, before staff approve it. It stays even if the
    # job is rejected later, because no page clears a flag yet.
    earlier = aliased(Bill)
    later = aliased(Bill)
    rows = session.execute(
        select(Payment.id, earlier.amount_due, later.amount_due)
        .join(earlier, earlier.id == Payment.bill_id)
        .join(later, _same_supply_and_period(later, earlier))  # type: ignore[arg-type]
        .where(later.job_id == job_id, Payment.status == "completed", Payment.flag.is_(None),
               earlier.period_from.is_not(None), earlier.period_to.is_not(None))
    )
    # Amounts are compared here, not in SQL, because SQLite stores them as text.
    flagged = _changed(rows)
    if flagged:
        session.execute(update(Payment).where(Payment.id.in_(flagged)).values(flag=CORRECTED_FLAG))
    return len(flagged)


def _changed(rows: Iterable[tuple[int, object, object]]) -> list[int]:
    return sorted({payment_id for payment_id, old, new in rows if old != new})
