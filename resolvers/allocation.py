"""Applying a payment to invoices, and keeping invoice statuses in step.

A payment goes to the invoices the patient chose, in the order chosen, then
to their other open invoices, oldest due date first. Each application is an
``Allocation`` row. What is left after every open invoice becomes account
credit, so allocations plus credit always equal the payment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import ALLOCATION_HOLDING_STATUSES, COLLECTED_STATUSES, InvoiceStatus
from db.models import AccountCreditEntry, Allocation, Invoice, Payment

PAYABLE_INVOICE_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


@dataclass(frozen=True)
class OutstandingInvoice:
    invoice: Invoice
    due_cents: int


@dataclass(frozen=True)
class AllocationPlan:
    applications: list[tuple[int, int]] = field(default_factory=list)
    """(invoice id, cents) in the order they are applied."""
    credit_cents: int = 0


def plan_allocation(amount_cents: int, outstanding: Sequence[OutstandingInvoice]) -> AllocationPlan:
    """Split ``amount_cents`` over ``outstanding`` in order; the remainder becomes credit."""
    if amount_cents <= 0:
        raise ValueError(f"amount_cents must be positive, got {amount_cents}")

    remaining = amount_cents
    applications: list[tuple[int, int]] = []
    for item in outstanding:
        if remaining == 0:
            break
        applied = min(remaining, item.due_cents)
        if applied > 0:
            applications.append((item.invoice.id, applied))
            remaining -= applied

    return AllocationPlan(applications=applications, credit_cents=remaining)


def _held_cents_by_invoice() -> Select[int, int]:
    """Cents held on each invoice by allocations of payments not failed or canceled."""
    return (
        select(Allocation.invoice_id, func.sum(Allocation.amount_cents).label("held"))
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Allocation.released_at.is_(None))
        .where(Payment.status.in_(ALLOCATION_HOLDING_STATUSES))
        .group_by(Allocation.invoice_id)
    )


async def load_outstanding_invoices(
    session: AsyncSession, patient_id: int, invoice_ids: Iterable[int] | None = None
) -> list[OutstandingInvoice]:
    """Load a patient's payable invoices with what is still due on each, oldest due first.

    With ``invoice_ids`` the result keeps only those invoices, including any
    already paid (with nothing due), so callers can name them in an error.
    """
    held = _held_cents_by_invoice().subquery()
    query = (
        select(Invoice, func.coalesce(held.c.held, 0))
        .outerjoin(held, held.c.invoice_id == Invoice.id)
        .where(Invoice.patient_id == patient_id)
        .order_by(Invoice.due_on, Invoice.id)
    )
    if invoice_ids is None:
        query = query.where(Invoice.status.in_(PAYABLE_INVOICE_STATUSES))
    else:
        query = query.where(Invoice.id.in_(list(invoice_ids)))

    rows = (await session.execute(query)).all()
    return [
        OutstandingInvoice(
            invoice=invoice,
            due_cents=0
            if invoice.status not in PAYABLE_INVOICE_STATUSES
            else max(invoice.total_cents - held_cents, 0),
        )
        for invoice, held_cents in rows
    ]


def store_allocations(session: AsyncSession, payment: Payment, plan: AllocationPlan) -> None:
    """Add the plan's allocation rows and credit entry for ``payment`` to the session."""
    for invoice_id, cents in plan.applications:
        session.add(
            Allocation(
                payment_id=payment.id,
                invoice_id=invoice_id,
                amount_cents=cents,
                created_at=payment.created_at,
            )
        )
    if plan.credit_cents > 0:
        session.add(
            AccountCreditEntry(
                patient_id=payment.patient_id,
                payment_id=payment.id,
                amount_cents=plan.credit_cents,
                reason="Paid beyond what the chosen invoices owed",
                created_at=payment.created_at,
            )
        )


async def release_payment_allocations(
    session: AsyncSession, payment_id: int, released_at: datetime
) -> None:
    """Release a failed payment's hold on its invoices and its credit."""
    await session.execute(
        update(Allocation)
        .where(Allocation.payment_id == payment_id, Allocation.released_at.is_(None))
        .values(released_at=released_at)
    )
    await session.execute(
        update(AccountCreditEntry)
        .where(
            AccountCreditEntry.payment_id == payment_id, AccountCreditEntry.released_at.is_(None)
        )
        .values(released_at=released_at)
    )


async def refresh_invoice_statuses(session: AsyncSession, *, payment_id: int) -> None:
    """Recompute OPEN / PARTIALLY_PAID / PAID for the invoices a payment touched.

    An invoice counts as paid only by collected money, so an ACH payment
    still in flight leaves it open (its amount due already shows the hold).
    """
    invoice_ids = select(Allocation.invoice_id).where(Allocation.payment_id == payment_id)
    collected = (
        select(Allocation.invoice_id, func.sum(Allocation.amount_cents).label("paid"))
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Allocation.released_at.is_(None))
        .where(Payment.status.in_(COLLECTED_STATUSES))
        .where(Allocation.invoice_id.in_(invoice_ids))
        .group_by(Allocation.invoice_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(Invoice, func.coalesce(collected.c.paid, 0))
            .outerjoin(collected, collected.c.invoice_id == Invoice.id)
            .where(Invoice.id.in_(invoice_ids))
        )
    ).all()

    for invoice, paid_cents in rows:
        if invoice.status is InvoiceStatus.VOID:
            continue
        invoice.status = invoice_status_for(invoice.total_cents, paid_cents)


def invoice_status_for(total_cents: int, paid_cents: int) -> InvoiceStatus:
    if paid_cents >= total_cents:
        return InvoiceStatus.PAID
    if paid_cents > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN
