"""Invoices, their lines, and the allocations of payments to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from db import models
from db.base import utc_now
from schema.context import Info
from schema.enums import InvoiceStatus, LineCategory
from schema.permissions import ReadPatients, ReadPayments
from schema.types.appointment import Appointment
from schema.types.money import Money, money

if TYPE_CHECKING:
    from schema.types.payment import Payment


@strawberry.type
class InvoiceLine:
    description: str
    category: LineCategory
    service_date: date
    amount: Money


@strawberry.type(description="The part of one payment applied to one invoice.")
class Allocation:
    amount: Money
    created_at: datetime
    invoice_id: strawberry.Private[int]
    payment_id: strawberry.Private[int]
    patient_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Allocation, patient_id: int) -> Allocation:
        return cls(
            amount=money(row.amount_cents),
            created_at=row.created_at,
            invoice_id=row.invoice_id,
            payment_id=row.payment_id,
            patient_id=patient_id,
        )

    @strawberry.field(permission_classes=[ReadPatients])
    async def invoice(self, info: Info) -> Invoice | None:
        row = await info.context.loaders.invoice.load(self.invoice_id)
        if row is None:
            raise LookupError(f"allocation refers to missing invoice {self.invoice_id}")
        return Invoice.from_row(row)

    @strawberry.field(permission_classes=[ReadPayments])
    async def payment(
        self, info: Info
    ) -> Annotated[Payment, strawberry.lazy("schema.types.payment")] | None:
        from schema.types.payment import Payment

        row = await info.context.loaders.payment.load(self.payment_id)
        if row is None:
            raise LookupError(f"allocation refers to missing payment {self.payment_id}")
        return Payment.from_row(row)


@strawberry.type
class Invoice(relay.Node):
    id: relay.NodeID[int]
    number: str
    issued_on: date
    due_on: date
    status: InvoiceStatus
    total_cents: strawberry.Private[int]
    currency: strawberry.Private[str]
    appointment_id: strawberry.Private[int | None]
    patient_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Invoice) -> Invoice:
        return cls(
            id=row.id,
            number=row.number,
            issued_on=row.issued_on,
            due_on=row.due_on,
            status=row.status,
            total_cents=row.total_cents,
            currency=row.currency,
            appointment_id=row.appointment_id,
            patient_id=row.patient_id,
        )

    @strawberry.field(permission_classes=[ReadPatients])
    async def lines(self, info: Info) -> list[InvoiceLine] | None:
        rows = await info.context.loaders.invoice_lines.load(self.id)
        return [
            InvoiceLine(
                description=row.description,
                category=row.category,
                service_date=row.service_date,
                amount=money(row.amount_cents, self.currency),
            )
            for row in rows
        ]

    @strawberry.field
    def total(self) -> Money:
        return money(self.total_cents, self.currency)

    @strawberry.field(description="Collected by succeeded payments.")
    async def amount_paid(self, info: Info) -> Money:
        paid, _ = await info.context.loaders.invoice_amounts.load(self.id)
        return money(paid, self.currency)

    @strawberry.field(description="Held by payments still processing, such as ACH not yet settled.")
    async def amount_pending(self, info: Info) -> Money:
        _, pending = await info.context.loaders.invoice_amounts.load(self.id)
        return money(pending, self.currency)

    @strawberry.field(description="Still owed: total less what is paid and what is processing.")
    async def amount_due(self, info: Info) -> Money:
        if self.status is InvoiceStatus.VOID:
            return money(0, self.currency)
        paid, pending = await info.context.loaders.invoice_amounts.load(self.id)
        return money(max(self.total_cents - paid - pending, 0), self.currency)

    @strawberry.field(description="Past its due date with money still due.")
    async def overdue(self, info: Info) -> bool:
        if self.status not in {InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID}:
            return False
        if self.due_on >= utc_now().date():
            return False
        paid, pending = await info.context.loaders.invoice_amounts.load(self.id)
        return self.total_cents - paid - pending > 0

    @strawberry.field(permission_classes=[ReadPatients])
    async def appointment(self, info: Info) -> Appointment | None:
        if self.appointment_id is None:
            return None
        row = await info.context.loaders.appointment.load(self.appointment_id)
        return Appointment.from_row(row) if row is not None else None

    @strawberry.field(
        description="Payments applied to this invoice, excluding failed ones.",
        permission_classes=[ReadPayments],
    )
    async def allocations(self, info: Info) -> list[Allocation] | None:
        rows = await info.context.loaders.invoice_allocations.load(self.id)
        return [Allocation.from_row(row, self.patient_id) for row in rows]
