"""Allocation: chosen invoices, oldest first, partial payments, credit, release on failure."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import FailureCode, InvoiceStatus, PaymentStatus
from db.models import AccountCreditEntry, Allocation, Invoice
from resolvers.allocation import OutstandingInvoice, plan_allocation
from resolvers.balances import balances_by_patient, credits_by_patient
from resolvers.payments import PayBillRequest, apply_charge_update, pay_bill
from resolvers.ports import ChargeUpdate
from tests.unit.builders import (
    RecordedUpdates,
    add_card,
    add_invoice,
    add_patient,
    sandbox_services,
)


def _outstanding(*dues: int) -> list[OutstandingInvoice]:
    return [
        OutstandingInvoice(invoice=Invoice(id=index + 1), due_cents=due)
        for index, due in enumerate(dues)
    ]


def test_plan_fills_invoices_in_order() -> None:
    plan = plan_allocation(15000, _outstanding(12000, 5000))

    assert plan.applications == [(1, 12000), (2, 3000)]
    assert plan.credit_cents == 0


def test_plan_partial_payment_stops_at_first_invoice() -> None:
    plan = plan_allocation(2500, _outstanding(12000, 5000))

    assert plan.applications == [(1, 2500)]
    assert plan.credit_cents == 0


def test_plan_skips_invoices_with_nothing_due() -> None:
    plan = plan_allocation(3000, _outstanding(0, 5000))

    assert plan.applications == [(2, 3000)]


def test_plan_remainder_becomes_credit() -> None:
    plan = plan_allocation(20000, _outstanding(12000, 5000))

    assert plan.applications == [(1, 12000), (2, 5000)]
    assert plan.credit_cents == 3000


@pytest.mark.parametrize("amount", [0, -1])
def test_plan_rejects_non_positive_amount(amount: int) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        plan_allocation(amount, _outstanding(100))


async def _allocations(session: AsyncSession, payment_id: int) -> list[tuple[int, int]]:
    rows = await session.execute(
        select(Allocation.invoice_id, Allocation.amount_cents)
        .where(Allocation.payment_id == payment_id, Allocation.released_at.is_(None))
        .order_by(Allocation.id)
    )
    return [(invoice_id, cents) for invoice_id, cents in rows]


async def test_pay_bill_applies_oldest_due_first(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        patient = await add_patient(session)
        newer = await add_invoice(session, patient.id, 5000, date(2026, 11, 30))
        older = await add_invoice(session, patient.id, 12000, date(2026, 10, 31))
        card = await add_card(session, patient.id)
        await session.commit()
    services = sandbox_services(session_factory, RecordedUpdates())

    result = await pay_bill(
        services,
        patient.id,
        PayBillRequest(idempotency_key="a", payment_method_id=card.id, amount_cents=15000),
    )

    async with session_factory() as session:
        assert await _allocations(session, result.payment.id) == [
            (older.id, 12000),
            (newer.id, 3000),
        ]
    await services.processor.aclose()


async def test_pay_bill_applies_to_chosen_invoices_in_order(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        patient = await add_patient(session)
        older = await add_invoice(session, patient.id, 12000, date(2026, 10, 31))
        newer = await add_invoice(session, patient.id, 5000, date(2026, 11, 30))
        card = await add_card(session, patient.id)
        await session.commit()
    services = sandbox_services(session_factory, RecordedUpdates())

    result = await pay_bill(
        services,
        patient.id,
        PayBillRequest(idempotency_key="b", payment_method_id=card.id, invoice_ids=(newer.id,)),
    )

    assert result.payment.amount_cents == 5000
    async with session_factory() as session:
        assert await _allocations(session, result.payment.id) == [(newer.id, 5000)]
        assert (await session.get_one(Invoice, older.id)).status is InvoiceStatus.OPEN
    await services.processor.aclose()


async def test_partial_payment_marks_invoice_partially_paid(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        patient = await add_patient(session)
        invoice = await add_invoice(session, patient.id, 12000, date(2026, 10, 31))
        card = await add_card(session, patient.id)
        await session.commit()
    updates = RecordedUpdates()
    services = sandbox_services(session_factory, updates)

    result = await pay_bill(
        services,
        patient.id,
        PayBillRequest(idempotency_key="c", payment_method_id=card.id, amount_cents=4000),
    )
    await services.processor.aclose()
    await apply_charge_update(
        services,
        ChargeUpdate(
            reference="", payment_id=result.payment.id, status=PaymentStatus.SUCCEEDED, message="ok"
        ),
    )

    async with session_factory() as session:
        assert (await session.get_one(Invoice, invoice.id)).status is InvoiceStatus.PARTIALLY_PAID
        assert (await balances_by_patient(session, [patient.id]))[patient.id] == 8000


async def test_failed_payment_releases_allocations(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        patient = await add_patient(session)
        invoice = await add_invoice(session, patient.id, 12000, date(2026, 10, 31))
        card = await add_card(session, patient.id, outcome="CARD_DECLINED")
        await session.commit()
    services = sandbox_services(session_factory, RecordedUpdates())
    result = await pay_bill(
        services, patient.id, PayBillRequest(idempotency_key="d", payment_method_id=card.id)
    )
    await services.processor.aclose()
    async with session_factory() as session:
        held = (await balances_by_patient(session, [patient.id]))[patient.id]

    payment = await apply_charge_update(
        services,
        ChargeUpdate(
            reference="",
            payment_id=result.payment.id,
            status=PaymentStatus.FAILED,
            message="declined",
            failure_code=FailureCode.CARD_DECLINED,
            failure_reason="Your card was declined.",
        ),
    )

    assert held == 0
    assert payment.status is PaymentStatus.FAILED
    async with session_factory() as session:
        assert await _allocations(session, result.payment.id) == []
        assert (await balances_by_patient(session, [patient.id]))[patient.id] == 12000
        assert (await session.get_one(Invoice, invoice.id)).status is InvoiceStatus.OPEN


async def test_overpaying_chosen_invoices_pays_next_oldest(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        patient = await add_patient(session)
        newest = await add_invoice(session, patient.id, 3000, date(2026, 12, 31))
        oldest = await add_invoice(session, patient.id, 9000, date(2026, 10, 31))
        card = await add_card(session, patient.id)
        await session.commit()
    services = sandbox_services(session_factory, RecordedUpdates())

    result = await pay_bill(
        services,
        patient.id,
        PayBillRequest(
            idempotency_key="e",
            payment_method_id=card.id,
            amount_cents=5000,
            invoice_ids=(newest.id,),
        ),
    )
    await services.processor.aclose()

    async with session_factory() as session:
        assert await _allocations(session, result.payment.id) == [
            (newest.id, 3000),
            (oldest.id, 2000),
        ]
        assert (await credits_by_patient(session, [patient.id]))[patient.id] == 0


async def test_credit_counts_once_collected(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        patient = await add_patient(session)
        await add_invoice(session, patient.id, 3000, date(2026, 10, 31))
        card = await add_card(session, patient.id)
        await session.commit()
    services = sandbox_services(session_factory, RecordedUpdates())
    result = await pay_bill(
        services, patient.id, PayBillRequest(idempotency_key="f", payment_method_id=card.id)
    )
    await services.processor.aclose()
    async with session_factory() as session:
        # pay_bill never plans credit, since it rejects amounts above the
        # balance, so the entry is written directly, as a later adjustment would.
        session.add(
            AccountCreditEntry(
                patient_id=patient.id,
                payment_id=result.payment.id,
                amount_cents=700,
                reason="Insurance lowered the invoice after payment",
            )
        )
        await session.commit()
        in_flight = (await credits_by_patient(session, [patient.id]))[patient.id]

    await apply_charge_update(
        services,
        ChargeUpdate(
            reference="", payment_id=result.payment.id, status=PaymentStatus.SUCCEEDED, message="ok"
        ),
    )

    async with session_factory() as session:
        assert in_flight == 0
        assert (await credits_by_patient(session, [patient.id]))[patient.id] == 700
