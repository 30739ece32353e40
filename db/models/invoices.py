"""Invoices and their lines."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.enums import InvoiceStatus, LineCategory
from db.models.columns import enum_column


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_patient_id_due_on", "patient_id", "due_on"),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    number: Mapped[str] = mapped_column(String(32), unique=True)
    issued_on: Mapped[date]
    due_on: Mapped[date]
    # Updated in the same transaction as every payment that settles or fails,
    # so it can be filtered on without recomputing allocations.
    status: Mapped[InvoiceStatus] = mapped_column(enum_column(InvoiceStatus, "invoice_status"))
    # Sum of the lines, fixed when the invoice is issued.
    total_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        Index("ix_invoice_lines_invoice_id", "invoice_id"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(String(300))
    category: Mapped[LineCategory] = mapped_column(enum_column(LineCategory, "line_category"))
    service_date: Mapped[date]
    amount_cents: Mapped[int]
