"""Choosing the bills of a test batch: every channel, service and language of the job, then more.

The spec asks for a sample of N bills (the tenant's ``test_batch_size``) that covers each channel,
service and language present in the job. A greedy cover picks, at each step, the bill that adds the
most features not yet covered (ties go to the lowest id), then the lowest ids fill the batch up to
N. The batch never exceeds N: when N bills cannot cover every feature, the bills chosen first cover
the most.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolletta.platform.db.models.tenant import Bill, Contact

Feature = tuple[str, str]


def bill_features(session: Session, job_id: int) -> dict[int, set[Feature]]:
    """Each bill's features: ``("service", s)``, ``("language", l)`` and ``("channel", c)`` per contact kind."""
    features: dict[int, set[Feature]] = {}
    codes: dict[str, list[int]] = defaultdict(list)
    for bill_id, service, language, code in session.execute(
        select(Bill.id, Bill.service, Bill.language, Bill.customer_code).where(Bill.job_id == job_id).order_by(Bill.id)
    ):
        features[bill_id] = {("service", service), ("language", language or "it")}
        codes[code].append(bill_id)
    for code, channel in session.execute(
        select(Contact.customer_code, Contact.channel).where(Contact.job_id == job_id).distinct()
    ):
        for bill_id in codes.get(code, []):
            features[bill_id].add(("channel", channel))
    return features


def choose_sample(features: dict[int, set[Feature]], size: int) -> list[int]:
    """Return the ids of the sample, in id order."""
    uncovered = set().union(*features.values()) if features else set()
    chosen: list[int] = []
    remaining = sorted(features)
    while uncovered and remaining and len(chosen) < size:
        best = max(remaining, key=lambda bill_id: (len(features[bill_id] & uncovered), -bill_id))
        if not features[best] & uncovered:
            break
        chosen.append(best)
        uncovered -= features[best]
        remaining.remove(best)
    for bill_id in remaining:
        if len(chosen) >= size:
            break
        chosen.append(bill_id)
    return sorted(chosen)


def sample_bills(session: Session, job_id: int, size: int) -> list[Bill]:
    """Return the test batch's bills of the job."""
    ids = choose_sample(bill_features(session, job_id), size)
    if not ids:
        return []
    return list(session.scalars(select(Bill).where(Bill.id.in_(ids)).order_by(Bill.id)))
