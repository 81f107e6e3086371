"""Per-tenant models (schema ``tenant_<slug>`` or the tenant's SQLite file)."""

from bolletta.platform.db.models.tenant.audit import AuditEntry
from bolletta.platform.db.models.tenant.bill import Bill, Contact, CostLine, Instalment
from bolletta.platform.db.models.tenant.export import Export
from bolletta.platform.db.models.tenant.job import Job, JobTransition
from bolletta.platform.db.models.tenant.notice import SentNotice
from bolletta.platform.db.models.tenant.payment import Payment, PaymentNotification
from bolletta.platform.db.models.tenant.stats import StatsDay, StatsRefresh
from bolletta.platform.db.models.tenant.task import OutboxTask
from bolletta.platform.db.models.tenant.ticket import Event, Message, StoredMessage, Suppression, Ticket
from bolletta.platform.db.models.tenant.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "AuditEntry",
    "Bill",
    "Contact",
    "CostLine",
    "Event",
    "Export",
    "Instalment",
    "Job",
    "JobTransition",
    "Message",
    "OutboxTask",
    "Payment",
    "PaymentNotification",
    "SentNotice",
    "StatsDay",
    "StatsRefresh",
    "StoredMessage",
    "Suppression",
    "Ticket",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
