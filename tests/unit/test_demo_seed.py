"""Tests for the demo practice seeded into a freshly migrated SQLite database."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.enums import AppointmentStatus, FailureCode, InvoiceStatus, PaymentStatus
from db.migrate import upgrade_to_head
from db.models import (
    Allocation,
    Appointment,
    Clinician,
    Invoice,
    InvoiceLine,
    Patient,
    Payment,
    PaymentEvent,
    PaymentMethod,
)
from gateway.demo import DemoSummary, database_is_empty, seed_demo
from resolvers.passwords import verify_password

TODAY = date(2026, 12, 4)
TODAY_START = datetime(2026, 12, 4, tzinfo=UTC)
DEMO_EMAIL = "demo@example.com"
CONFIRMATION_PATTERN = re.compile(r"CGH-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")

SessionFactory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def empty_db(tmp_path: Path) -> AsyncIterator[SessionFactory]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def seeded(empty_db: SessionFactory) -> SessionFactory:
    async with empty_db() as session:
        await seed_demo(session, today=TODAY)
        await session.commit()
    return empty_db


async def _demo_patient(session: AsyncSession) -> Patient:
    return (await session.scalars(select(Patient).where(Patient.email == DEMO_EMAIL))).one()


async def _succeeded_cents_by_invoice(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(Allocation.invoice_id, func.sum(Allocation.amount_cents))
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Payment.status == PaymentStatus.SUCCEEDED, Allocation.released_at.is_(None))
        .group_by(Allocation.invoice_id)
    )
    return {invoice_id: cents for invoice_id, cents in rows}


async def test_database_is_empty_until_seeded(empty_db: SessionFactory) -> None:
    async with empty_db() as session:
        assert await database_is_empty(session)
        await seed_demo(session, today=TODAY)
        await session.commit()
    async with empty_db() as session:
        assert not await database_is_empty(session)


async def test_demo_summary_matches_row_counts(empty_db: SessionFactory) -> None:
    async with empty_db() as session:
        summary = await seed_demo(session, today=TODAY)
        await session.commit()

    async with empty_db() as session:
        counted = DemoSummary(
            clinicians=await session.scalar(select(func.count()).select_from(Clinician)) or 0,
            patients=await session.scalar(select(func.count()).select_from(Patient)) or 0,
            appointments=await session.scalar(select(func.count()).select_from(Appointment)) or 0,
            invoices=await session.scalar(select(func.count()).select_from(Invoice)) or 0,
            payments=await session.scalar(select(func.count()).select_from(Payment)) or 0,
        )
    assert counted == summary
    assert summary.clinicians == 4
    assert summary.patients == 6


async def test_demo_seed_rejects_nonempty_database(seeded: SessionFactory) -> None:
    async with seeded() as session:
        with pytest.raises(ValueError, match="already has patients"):
            await seed_demo(session, today=TODAY)


async def test_demo_patient_password_verifies(seeded: SessionFactory) -> None:
    async with seeded() as session:
        patient = await _demo_patient(session)
    assert patient.name == "Jordan Rivera"
    assert verify_password(patient.password_hash, "demo-password")
    assert not verify_password(patient.password_hash, "wrong-password")


async def test_demo_invoice_totals_match_lines(seeded: SessionFactory) -> None:
    async with seeded() as session:
        invoices = (await session.scalars(select(Invoice))).all()
        lines = (await session.scalars(select(InvoiceLine))).all()
    line_sums: dict[int, int] = defaultdict(int)
    for line in lines:
        line_sums[line.invoice_id] += line.amount_cents
        assert isinstance(line.amount_cents, int)
        assert line.amount_cents > 0, line.description

    assert invoices
    for invoice in invoices:
        assert invoice.total_cents == line_sums[invoice.id], invoice.number


async def test_demo_invoice_numbers_unique(seeded: SessionFactory) -> None:
    async with seeded() as session:
        numbers = (await session.scalars(select(Invoice.number))).all()
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert re.fullmatch(r"INV-\d{4}-\d{6}", number), number


async def test_demo_invoice_status_matches_allocations(seeded: SessionFactory) -> None:
    async with seeded() as session:
        invoices = (await session.scalars(select(Invoice))).all()
        collected = await _succeeded_cents_by_invoice(session)

    for invoice in invoices:
        paid = collected.get(invoice.id, 0)
        if paid == 0:
            expected = InvoiceStatus.OPEN
        elif paid < invoice.total_cents:
            expected = InvoiceStatus.PARTIALLY_PAID
        else:
            expected = InvoiceStatus.PAID
        assert paid <= invoice.total_cents, invoice.number
        assert invoice.status == expected, invoice.number


async def test_demo_succeeded_allocations_sum_to_amount(seeded: SessionFactory) -> None:
    async with seeded() as session:
        payments = (
            await session.scalars(select(Payment).where(Payment.status == PaymentStatus.SUCCEEDED))
        ).all()
        allocations = (
            await session.scalars(select(Allocation).where(Allocation.released_at.is_(None)))
        ).all()
    allocated: dict[int, int] = defaultdict(int)
    for allocation in allocations:
        allocated[allocation.payment_id] += allocation.amount_cents

    assert payments
    for payment in payments:
        assert allocated[payment.id] == payment.amount_cents, payment.confirmation_number


async def test_demo_payment_fields_well_formed(seeded: SessionFactory) -> None:
    async with seeded() as session:
        payments = (await session.scalars(select(Payment))).all()
        methods = {row.id: row for row in (await session.scalars(select(PaymentMethod))).all()}

    confirmations = [payment.confirmation_number for payment in payments]
    assert len(set(confirmations)) == len(confirmations)
    for payment in payments:
        code = payment.confirmation_number
        assert CONFIRMATION_PATTERN.fullmatch(code), code
        assert payment.statement_descriptor == f"CEDAR GROVE HLTH {code[4:8]}"
        assert len(payment.statement_descriptor) <= 22
        assert payment.idempotency_key.startswith("demo-")
        assert methods[payment.payment_method_id].method_type == payment.method_type
        assert payment.created_at.tzinfo is not None
        assert payment.created_at < TODAY_START, code


async def test_demo_payment_events_in_sequence(seeded: SessionFactory) -> None:
    async with seeded() as session:
        payments = {row.id: row for row in (await session.scalars(select(Payment))).all()}
        events = (
            await session.scalars(
                select(PaymentEvent).order_by(PaymentEvent.payment_id, PaymentEvent.sequence)
            )
        ).all()
    by_payment: dict[int, list[PaymentEvent]] = defaultdict(list)
    for event in events:
        by_payment[event.payment_id].append(event)

    for payment_id, payment in payments.items():
        statuses = [event.status for event in by_payment[payment_id]]
        sequences = [event.sequence for event in by_payment[payment_id]]
        assert statuses == [PaymentStatus.PENDING, PaymentStatus.PROCESSING, payment.status]
        assert sequences == [1, 2, 3]
        assert payment.updated_at == by_payment[payment_id][-1].occurred_at


async def test_demo_patient_has_past_and_upcoming(seeded: SessionFactory) -> None:
    async with seeded() as session:
        patient = await _demo_patient(session)
        appointments = (
            await session.scalars(select(Appointment).where(Appointment.patient_id == patient.id))
        ).all()
    past = [row for row in appointments if row.starts_at < TODAY_START]
    upcoming = [row for row in appointments if row.starts_at >= TODAY_START]

    assert len(past) >= 10
    assert all(row.status != AppointmentStatus.SCHEDULED for row in past)
    assert 3 <= len(upcoming) <= 5
    assert all(row.status == AppointmentStatus.SCHEDULED for row in upcoming)
    assert all(row.starts_at < TODAY_START + timedelta(weeks=6) for row in upcoming)


async def test_demo_patient_has_unpaid_invoices(seeded: SessionFactory) -> None:
    async with seeded() as session:
        patient = await _demo_patient(session)
        invoices = (
            await session.scalars(select(Invoice).where(Invoice.patient_id == patient.id))
        ).all()
        collected = await _succeeded_cents_by_invoice(session)
    unpaid_statuses = {InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID}
    unpaid = [invoice for invoice in invoices if invoice.status in unpaid_statuses]
    balance = sum(invoice.total_cents - collected.get(invoice.id, 0) for invoice in unpaid)

    assert len(unpaid) >= 3
    assert any(invoice.status == InvoiceStatus.PARTIALLY_PAID for invoice in unpaid)
    assert 20_000 <= balance <= 100_000


async def test_demo_patient_failed_payment_released(seeded: SessionFactory) -> None:
    async with seeded() as session:
        patient = await _demo_patient(session)
        failed = (
            await session.scalars(
                select(Payment).where(
                    Payment.patient_id == patient.id, Payment.status == PaymentStatus.FAILED
                )
            )
        ).one()
        allocations = (
            await session.scalars(select(Allocation).where(Allocation.payment_id == failed.id))
        ).all()
        method = await session.get_one(PaymentMethod, failed.payment_method_id)

    assert failed.failure_code == FailureCode.CARD_DECLINED
    assert failed.settled_at is None
    assert method.last4 == "0002"
    assert allocations
    assert all(allocation.released_at is not None for allocation in allocations)
    assert sum(allocation.amount_cents for allocation in allocations) == failed.amount_cents


async def test_demo_seed_is_reproducible(tmp_path: Path) -> None:
    snapshots = []
    for name in ("first.db", "second.db"):
        url = f"sqlite+aiosqlite:///{tmp_path / name}"
        await asyncio.to_thread(upgrade_to_head, url)
        engine = create_engine(url)
        async with create_session_factory(engine)() as session:
            await seed_demo(session, today=TODAY)
            await session.flush()
            invoices = await session.execute(
                select(Invoice.number, Invoice.total_cents, Invoice.status).order_by(Invoice.id)
            )
            payments = await session.execute(
                select(Payment.confirmation_number, Payment.amount_cents).order_by(Payment.id)
            )
            snapshots.append((invoices.all(), payments.all()))
        await engine.dispose()

    assert snapshots[0] == snapshots[1]
