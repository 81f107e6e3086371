from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bolletta.platform.db.base import ExactDecimal, TenantBase


class Bill(TenantBase):
    """One bill (invoice or credit note) for one customer and supply."""

    __tablename__ = "bills"
    __table_args__ = (
        # A document number is unique among the bills not withdrawn. Rejecting a job withdraws its
        # bills (see jobs.withdrawal), so the utility can send the same bills again in a new job. The
        # withdrawn rows stay for the audit trail.
        Index("uq_bills_document_number_series_year", "document_number", "series", "year", unique=True,
              postgresql_where=text("withdrawn_at IS NULL"), sqlite_where=text("withdrawn_at IS NULL")),
        # Searches by document number also find withdrawn bills, which the partial index above omits.
        Index("ix_bills_document_number", "document_number"),
        # Used by the review to find a customer's previous bill of the same service, and by every
        # lookup by customer code.
        Index("ix_bills_customer_code_service_issue_date_id", "customer_code", "service", "issue_date", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    """Random 128-bit id in base62 used in customer URLs; never the document number."""
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    source_file: Mapped[str] = mapped_column(String(500))
    body_index: Mapped[int] = mapped_column(Integer, default=1)
    document_number: Mapped[str] = mapped_column(String(60))
    series: Mapped[str] = mapped_column(String(40), default="")
    year: Mapped[int] = mapped_column(Integer)
    document_type: Mapped[str] = mapped_column(String(10))
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    amount_due: Mapped[Decimal] = mapped_column(ExactDecimal)
    payment_method: Mapped[str | None] = mapped_column(String(10))
    direct_debit: Mapped[bool] = mapped_column(Boolean, default=False)
    payable_online: Mapped[bool] = mapped_column(Boolean, default=True)
    service: Mapped[str] = mapped_column(String(20))
    seller_name: Mapped[str] = mapped_column(String(200), default="")
    customer_code: Mapped[str] = mapped_column(String(60))
    customer_name: Mapped[str] = mapped_column(String(200))
    fiscal_code: Mapped[str | None] = mapped_column(String(28))
    vat_number: Mapped[str | None] = mapped_column(String(30))
    customer_address: Mapped[str | None] = mapped_column(String(500))
    pod: Mapped[str | None] = mapped_column(String(20))
    pdr: Mapped[str | None] = mapped_column(String(20))
    supply_address: Mapped[str | None] = mapped_column(String(500))
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    consumption: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    consumption_unit: Mapped[str | None] = mapped_column(String(10))
    language: Mapped[str | None] = mapped_column(String(10))
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Smart-bill sections beyond the core columns (readings, history, offer...), from the flow."""
    """Warnings for approval, each a ``Text`` as JSON. Older bills hold plain English strings."""
    pdf_key: Mapped[str | None] = mapped_column(String(500))
    """Storage key of the bill's own PDF from the flow."""
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When staff rejected the bill's job; from then on another bill may use the same document number."""

    instalments: Mapped[list[Instalment]] = relationship(
        order_by="Instalment.position", cascade="all, delete-orphan"
    )
    costs: Mapped[list[CostLine]] = relationship(order_by="CostLine.position", cascade="all, delete-orphan")

    @property
    def is_credit_note(self) -> bool:
        """True for ``TD04`` documents: nothing is due and nothing is payable online."""
        return self.document_type == "TD04"


class Instalment(TenantBase):
    """One amount due by a date; the bill is paid when every instalment is."""

    __tablename__ = "instalments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    due_date: Mapped[date | None] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(10))
    notice_code: Mapped[str | None] = mapped_column(String(30))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CostLine(TenantBase):
    """One item of the bill's cost summary, in a regulated category."""

    __tablename__ = "cost_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(1000))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    quantity: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    unit: Mapped[str | None] = mapped_column(String(20))
    unit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)


class Contact(TenantBase):
    """A customer's mobile number or e-mail address, from the flow, a job's CSV or the directory."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_code: Mapped[str] = mapped_column(String(60), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(20))
    """``flow``, ``job_csv`` or ``directory``."""
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


