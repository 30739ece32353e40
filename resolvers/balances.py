"""Balances owed, account credit, and paid and pending amounts per invoice."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import ALLOCATION_HOLDING_STATUSES, COLLECTED_STATUSES
from db.models import AccountCreditEntry, Allocation, Invoice, Payment
from resolvers.allocation import PAYABLE_INVOICE_STATUSES


async def _sums_by_key(session: AsyncSession, query: Select[int, int]) -> dict[int, int]:
    return {key: int(total or 0) for key, total in await session.execute(query)}


async def balances_by_patient(session: AsyncSession, patient_ids: Sequence[int]) -> dict[int, int]:
    """Cents still owed per patient after succeeded and in-flight payments.

    Two grouped queries whatever the number of patients: invoice totals, then
    the allocations holding those invoices.
    """
    totals_query = (
        select(Invoice.patient_id, func.sum(Invoice.total_cents))
        .where(Invoice.patient_id.in_(patient_ids))
        .where(Invoice.status.in_(PAYABLE_INVOICE_STATUSES))
        .group_by(Invoice.patient_id)
    )
    held_query = (
        select(Invoice.patient_id, func.sum(Allocation.amount_cents))
        .join(Allocation, Allocation.invoice_id == Invoice.id)
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Invoice.patient_id.in_(patient_ids))
        .where(Invoice.status.in_(PAYABLE_INVOICE_STATUSES))
        .where(Allocation.released_at.is_(None))
        .where(Payment.status.in_(ALLOCATION_HOLDING_STATUSES))
        .group_by(Invoice.patient_id)
    )

    totals = await _sums_by_key(session, totals_query)
    held = await _sums_by_key(session, held_query)
    return {pid: totals.get(pid, 0) - held.get(pid, 0) for pid in patient_ids}


async def credits_by_patient(session: AsyncSession, patient_ids: Sequence[int]) -> dict[int, int]:
    """Cents of account credit per patient, counting only collected payments."""
    credits = await _sums_by_key(
        session,
        select(AccountCreditEntry.patient_id, func.sum(AccountCreditEntry.amount_cents))
        .join(Payment, Payment.id == AccountCreditEntry.payment_id)
        .where(AccountCreditEntry.patient_id.in_(patient_ids))
        .where(AccountCreditEntry.released_at.is_(None))
        .where(Payment.status.in_(COLLECTED_STATUSES))
        .group_by(AccountCreditEntry.patient_id),
    )
    return {pid: credits.get(pid, 0) for pid in patient_ids}


async def invoice_amounts(
    session: AsyncSession, invoice_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """(collected cents, in-flight cents) per invoice, from unreleased allocations."""
    collected = func.sum(Allocation.amount_cents).filter(Payment.status.in_(COLLECTED_STATUSES))
    held = func.sum(Allocation.amount_cents).filter(Payment.status.in_(ALLOCATION_HOLDING_STATUSES))
    rows = await session.execute(
        select(Allocation.invoice_id, collected, held)
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Allocation.invoice_id.in_(invoice_ids))
        .where(Allocation.released_at.is_(None))
        .group_by(Allocation.invoice_id)
    )
    amounts = {
        invoice_id: (int(paid or 0), int(all_held or 0) - int(paid or 0))
        for invoice_id, paid, all_held in rows
    }
    return {invoice_id: amounts.get(invoice_id, (0, 0)) for invoice_id in invoice_ids}
