"""The payment state machine: forward moves only, repeats ignored, events numbered."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utc_now
from db.enums import FailureCode, PaymentMethodType
from db.enums import PaymentStatus as S
from db.models import Payment, PaymentEvent
from resolvers.payment_states import is_allowed_transition, transition_payment
from resolvers.payments import apply_charge_update
from resolvers.ports import ChargeUpdate
from tests.unit.builders import (
    RecordedUpdates,
    add_card,
    add_invoice,
    add_patient,
    sandbox_services,
)

ALLOWED = [
    (S.PENDING, S.PROCESSING),
    (S.PENDING, S.FAILED),
    (S.PROCESSING, S.SUCCEEDED),
    (S.PROCESSING, S.FAILED),
    (S.PROCESSING, S.CANCELED),
    (S.SUCCEEDED, S.PARTIALLY_REFUNDED),
    (S.SUCCEEDED, S.REFUNDED),
    (S.PARTIALLY_REFUNDED, S.PARTIALLY_REFUNDED),
    (S.PARTIALLY_REFUNDED, S.REFUNDED),
]

REJECTED = [
    (S.PROCESSING, S.PENDING),
    (S.PROCESSING, S.PROCESSING),
    (S.SUCCEEDED, S.PROCESSING),
    (S.SUCCEEDED, S.SUCCEEDED),
    (S.SUCCEEDED, S.FAILED),
    (S.FAILED, S.SUCCEEDED),
    (S.FAILED, S.PROCESSING),
    (S.CANCELED, S.SUCCEEDED),
    (S.PROCESSING, S.REFUNDED),
    (S.FAILED, S.REFUNDED),
    (S.REFUNDED, S.PARTIALLY_REFUNDED),
    (S.REFUNDED, S.SUCCEEDED),
]


@pytest.mark.parametrize(("current", "new"), ALLOWED)
def test_forward_move_allowed(current: S, new: S) -> None:
    assert is_allowed_transition(current, new)


@pytest.mark.parametrize(("current", "new"), REJECTED)
def test_backward_or_repeated_move_rejected(current: S, new: S) -> None:
    assert not is_allowed_transition(current, new)


async def _pending_payment(session: AsyncSession) -> Payment:
    patient = await add_patient(session)
    await add_invoice(session, patient.id, 5000, date(2026, 11, 30))
    card = await add_card(session, patient.id)
    now = utc_now()
    payment = Payment(
        patient_id=patient.id,
        payment_method_id=card.id,
        method_type=PaymentMethodType.CREDIT_CARD,
        amount_cents=5000,
        status=S.PENDING,
        confirmation_number="CGH-TEST-0001",
        statement_descriptor="CEDAR GROVE HLTH TEST",
        idempotency_key="k",
        request_fingerprint="f" * 64,
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    await session.flush()
    session.add(
        PaymentEvent(payment_id=payment.id, sequence=1, status=S.PENDING, message="created")
    )
    await session.flush()
    return payment


async def _event_statuses(session: AsyncSession, payment_id: int) -> list[tuple[int, S]]:
    rows = await session.execute(
        select(PaymentEvent.sequence, PaymentEvent.status)
        .where(PaymentEvent.payment_id == payment_id)
        .order_by(PaymentEvent.sequence)
    )
    return [(sequence, status) for sequence, status in rows]


async def test_transitions_store_numbered_events(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        payment = await _pending_payment(session)

        await transition_payment(session, payment, S.PROCESSING, "sent")
        await transition_payment(session, payment, S.SUCCEEDED, "settled")

        assert payment.status is S.SUCCEEDED
        assert payment.settled_at is not None
        assert await _event_statuses(session, payment.id) == [
            (1, S.PENDING),
            (2, S.PROCESSING),
            (3, S.SUCCEEDED),
        ]


async def test_late_processing_callback_ignored(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        payment = await _pending_payment(session)
        await transition_payment(session, payment, S.PROCESSING, "sent")
        await transition_payment(session, payment, S.SUCCEEDED, "settled")

        late = await transition_payment(session, payment, S.PROCESSING, "sent again")

        assert late is None
        assert payment.status is S.SUCCEEDED
        assert len(await _event_statuses(session, payment.id)) == 3


async def test_repeated_outcome_ignored(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        payment = await _pending_payment(session)
        await transition_payment(session, payment, S.PROCESSING, "sent")
        await transition_payment(session, payment, S.SUCCEEDED, "settled")

        repeat = await transition_payment(session, payment, S.SUCCEEDED, "settled")

        assert repeat is None
        assert len(await _event_statuses(session, payment.id)) == 3


async def test_failure_after_success_ignored(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        payment = await _pending_payment(session)
        await transition_payment(session, payment, S.SUCCEEDED, "settled")

        late = await transition_payment(
            session, payment, S.FAILED, "declined", failure_code=FailureCode.CARD_DECLINED
        )

        assert late is None
        assert payment.status is S.SUCCEEDED
        assert payment.failure_code is None


async def test_failure_records_code_and_reason(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        payment = await _pending_payment(session)

        await transition_payment(
            session,
            payment,
            S.FAILED,
            "declined",
            failure_code=FailureCode.INSUFFICIENT_FUNDS,
            failure_reason="Not enough funds.",
        )

        assert payment.failure_code is FailureCode.INSUFFICIENT_FUNDS
        assert payment.failure_reason == "Not enough funds."
        assert payment.settled_at is None


async def test_outcome_before_processing_records_both(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        payment = await _pending_payment(session)
        await session.commit()
    services = sandbox_services(session_factory, RecordedUpdates())

    await apply_charge_update(
        services,
        ChargeUpdate(
            reference="sbx_pi_card_ok_0001",
            payment_id=payment.id,
            status=S.SUCCEEDED,
            message="Payment succeeded",
        ),
    )

    async with session_factory() as session:
        assert await _event_statuses(session, payment.id) == [
            (1, S.PENDING),
            (2, S.PROCESSING),
            (3, S.SUCCEEDED),
        ]
