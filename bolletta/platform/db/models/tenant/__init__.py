"""Per-tenant models (schema ``tenant_<slug>`` or the tenant's SQLite file)."""

from bolletta.platform.db.models.tenant.audit import AuditEntry
from bolletta.platform.db.models.tenant.bill import Bill, Contact, CostLine, Instalment
from bolletta.platform.db.models.tenant.job import Job, JobTransition
from bolletta.platform.db.models.tenant.notice import SentNotice
from bolletta.platform.db.models.tenant.payment import Payment
from bolletta.platform.db.models.tenant.task import OutboxTask
from bolletta.platform.db.models.tenant.ticket import Event, Message, StoredMessage, Suppression, Ticket

__all__ = [
    "AuditEntry",
    "Bill",
    "Contact",
    "CostLine",
    "Event",
    "Instalment",
    "Job",
    "JobTransition",
    "Message",
    "OutboxTask",
    "Payment",
    "SentNotice",
    "StoredMessage",
    "Suppression",
    "Ticket",
]
