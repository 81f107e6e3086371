"""A statistics dataset whose every figure is computed by hand in :data:`EXPECTED_2025`.

Year 2025, two jobs. Ticket dates are chosen around Europe/Rome midnights: 2024-12-31 23:30 UTC is
1 January 2025 in Rome, 2025-01-31 23:30 UTC is 1 February. The edge cases of the issue are here:
April to December have no tickets; WhatsApp has only errors; bill B3 was re-sent on SMS and first
viewed through that later SMS ticket; bill B1 was paid in March for a January ticket; a test ticket
and a 2024 ticket never count; a message re-sent after a failure is no error.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from bolletta.platform.db.models.tenant import Bill, Job, Message, Payment, Ticket

_numbers = itertools.count(1)


def utc(text: str) -> datetime:
    """An aware UTC datetime from ``YYYY-MM-DD HH:MM``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def add_job(session: Session, filename: str, created: str) -> Job:
    """A dispatched job."""
    job = Job(state="dispatched", filename=filename, source="cli", archive_sha256=filename.ljust(64, "0")[:64],
              archive_key=f"x/{filename}", archive_size=1, opened_by="test", created_at=utc(created),
              updated_at=utc(created), report={}, bills_accepted=0)
    session.add(job)
    session.flush()
    return job


def add_bill(session: Session, job: Job, name: str, *, payable: bool = True, amount: str = "80.00",
             customer_code: str | None = None, issue: date = date(2025, 1, 5)) -> Bill:
    """A bill of ``job``; ``name`` is its document number."""
    number = next(_numbers)
    bill = Bill(public_id=f"pub{number:020d}", job_id=job.id, source_file="f.xml", document_number=name,
                series="A", year=2025, document_type="TD01", issue_date=issue, due_date=date(2025, 2, 5),
                amount_due=Decimal(amount), total=Decimal(amount), payable_online=payable, service="electricity",
                customer_code=customer_code or f"C{number:04d}", customer_name=f"Cliente {name}",
                created_at=utc("2025-01-05 08:00"))
    session.add(bill)
    session.flush()
    return bill


def add_ticket(session: Session, job: Job, bill: Bill, channel: str, created: str, statuses: tuple[str, ...],
               viewed: str | None = None, *, test: bool = False, address: str | None = None,
               expires: str = "2030-01-01 00:00") -> Ticket:
    """A ticket with one message per status, oldest first, so the last status is the latest."""
    number = next(_numbers)
    default_address = f"cliente{number}@example.it" if channel == "email" else f"+39333{number:07d}"
    ticket = Ticket(bill_id=bill.id, job_id=job.id, channel=channel, address=address or default_address,
                    is_test=test, test_round=1 if test else 0, created_at=utc(created), expires_at=utc(expires),
                    first_viewed_at=utc(viewed) if viewed else None)
    session.add(ticket)
    session.flush()
    for position, status in enumerate(statuses):
        session.add(Message(ticket_id=ticket.id, plugin="outbox", status=status,
                            idempotency_key=f"m{ticket.id}-{position}", created_at=utc(created),
                            updated_at=utc(created)))
    session.flush()
    return ticket


def add_payment(session: Session, bill: Bill, status: str, at: str) -> Payment:
    """An online payment attempt of ``bill``."""
    number = next(_numbers)
    payment = Payment(order_id=f"ord{number}", bill_id=bill.id, gateway="sandbox", status=status,
                      amount=bill.amount_due, currency="EUR", created_at=utc(at), updated_at=utc(at),
                      completed_at=utc(at) if status == "completed" else None)
    session.add(payment)
    session.flush()
    return payment


@dataclass
class Dataset:
    """Ids the tests need after building the dataset."""

    job1: int
    job2: int
    bill13: int
    ticket8: int


def build(session: Session) -> Dataset:
    """Insert the dataset and commit."""
    job1 = add_job(session, "gennaio.zip", "2025-01-09 08:00")
    job2 = add_job(session, "febbraio.zip", "2025-01-31 08:00")
    b1, b2, b3, b4, b5 = (add_bill(session, job1, f"B{n}") for n in range(1, 6))
    b6 = add_bill(session, job1, "B6", payable=False)
    b9, b10, b11, b16, b17 = (add_bill(session, job1, f"B{n}") for n in (9, 10, 11, 16, 17))
    b13, b14, b15 = (add_bill(session, job2, f"B{n}") for n in (13, 14, 15))

    day = "2025-01-10 09:00"
    add_ticket(session, job1, b1, "sms", day, ("delivered",), "2025-01-10 10:00")            # T1
    add_ticket(session, job1, b1, "sms", day, ("delivered",), "2025-01-10 09:30", test=True)  # test ticket
    add_ticket(session, job1, b2, "sms", day, ("failed",))                                   # T2
    add_ticket(session, job1, b2, "sms", day, ("rejected",), address="+393339999999")        # T3
    add_ticket(session, job1, b4, "sms", day, ("timeout",), "2025-01-12 10:00")              # T4
    add_ticket(session, job1, b5, "sms", day, ("sent",))                                     # T5
    add_ticket(session, job1, b6, "sms", day, ("failed", "delivered"), "2025-01-11 10:00")   # T6
    add_ticket(session, job1, b3, "email", day, ("delivered",), "2025-02-10 10:00")          # T7
    t8 = add_ticket(session, job1, b3, "sms", "2025-02-03 10:00", ("delivered",), "2025-02-04 10:00")
    add_ticket(session, job1, b9, "email", day, ("failed",))                                 # T9
    add_ticket(session, job1, b10, "whatsapp", day, ("rejected",))                           # T10
    add_ticket(session, job1, b11, "whatsapp", day, ("failed",))                             # T11
    add_ticket(session, job1, b16, "email", "2024-12-31 23:30", ("delivered",))              # T16: 1 Jan in Rome
    add_ticket(session, job1, b17, "sms", "2024-12-31 22:30", ("delivered",), "2025-01-02 10:00")  # 2024
    add_ticket(session, job2, b13, "email", "2025-01-31 23:30", ("delivered",), "2025-02-02 10:00")  # T13
    add_ticket(session, job2, b14, "sms", "2025-02-28 22:59", ())                            # T14: no message
    add_ticket(session, job2, b15, "sms", "2025-03-01 00:30", ("delivered",), "2025-03-01 09:00")  # T15

    add_payment(session, b1, "failed", "2025-01-10 10:05")
    add_payment(session, b1, "completed", "2025-03-05 10:00")   # paid after January ends
    add_payment(session, b3, "completed", "2025-02-11 10:00")
    add_payment(session, b4, "failed", "2025-01-12 10:05")
    add_payment(session, b15, "refunded", "2025-03-02 10:00")
    add_payment(session, b17, "completed", "2025-01-02 10:05")  # a 2024 ticket's bill
    session.commit()
    return Dataset(job1=job1.id, job2=job2.id, bill13=b13.id, ticket8=t8.id)


EXPECTED_2025 = {
    "total": {"tickets": 15, "errors": 5, "s2s_errors": 2, "viewed": 7, "viewed_payable": 5, "paid": 2},
    "sms": {"tickets": 9, "errors": 2, "s2s_errors": 1, "viewed": 5, "delivered": 4, "timeouts": 1,
            "pending": 2, "viewed_payable": 4, "paid": 2},
    "email": {"tickets": 4, "errors": 1, "s2s_errors": 0, "viewed": 2, "delivered": 3, "viewed_payable": 1,
              "paid": 0},
    "whatsapp": {"tickets": 2, "errors": 2, "s2s_errors": 1, "viewed": 0, "viewed_payable": 0, "paid": 0},
    "shares": {"sms": "60,00%", "email": "26,67%", "whatsapp": "13,33%"},
    "errors_share": "33,33%",
    "viewed_rate": {"total": "70,00%", "sms": "71,43%", "email": "66,67%", "whatsapp": "–"},
    "paid_rate": {"total": "40,00%", "sms": "50,00%", "email": "0,00%", "whatsapp": "–"},
    "sms_states": {"delivered": ("4", "44,44%"), "errors": ("2", "22,22%"), "timeouts": ("1", "11,11%"),
                   "pending": ("2", "22,22%")},
    "months": {
        1: {"tickets": 11, "errors": 5, "viewed": 4, "viewed_payable": 2, "paid": 1, "sms": 6, "email": 3,
            "viewed_rate": "66,67%", "paid_rate": "50,00%"},
        2: {"tickets": 3, "errors": 0, "viewed": 2, "viewed_payable": 2, "paid": 1, "sms": 2, "email": 1,
            "viewed_rate": "66,67%", "paid_rate": "50,00%"},
        3: {"tickets": 1, "errors": 0, "viewed": 1, "viewed_payable": 1, "paid": 0, "sms": 1, "email": 0,
            "viewed_rate": "100,00%", "paid_rate": "0,00%"},
    },
    "trends": {2: (0, 0), 3: (1, -1), 4: (0, 0)},
    "jobs": {"gennaio.zip": 12, "febbraio.zip": 3},
}
