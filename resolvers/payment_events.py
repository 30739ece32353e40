"""Reading a payment's event history and following it live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import PaymentStatus
from db.models import Payment, PaymentEvent
from resolvers.errors import NotFoundError
from resolvers.payment_states import OUTCOME_STATUSES
from resolvers.ports import payment_topic
from resolvers.services import BillingServices


@dataclass(frozen=True)
class EventRecord:
    payment_id: int
    sequence: int
    status: PaymentStatus
    message: str
    occurred_at: datetime


async def get_patient_payment(session: AsyncSession, patient_id: int, payment_id: int) -> Payment:
    """Load a payment the patient owns, or raise NOT_FOUND as if it did not exist."""
    payment = await session.get(Payment, payment_id)
    if payment is None or payment.patient_id != patient_id:
        raise NotFoundError(
            "Payment not found; use an id from your payments list.", field="paymentId"
        )
    return payment


async def _events_after(
    services: BillingServices, payment_id: int, after_sequence: int
) -> list[EventRecord]:
    async with services.session_factory() as session:
        rows = await session.scalars(
            select(PaymentEvent)
            .where(PaymentEvent.payment_id == payment_id, PaymentEvent.sequence > after_sequence)
            .order_by(PaymentEvent.sequence)
        )
        return [
            EventRecord(row.payment_id, row.sequence, row.status, row.message, row.occurred_at)
            for row in rows
        ]


async def follow_payment_events(
    services: BillingServices, payment_id: int
) -> AsyncIterator[EventRecord]:
    """Yield a payment's stored events, then each new one, ending after its outcome.

    The bus subscription opens before the history is read, so an event that
    commits in between arrives on the bus and is not lost; sequence numbers
    drop the duplicates and reveal any gap, which is then read from the database.
    """
    async with services.events.subscribe(payment_topic(payment_id)) as live:
        last_sequence = 0
        for record in await _events_after(services, payment_id, 0):
            yield record
            last_sequence = record.sequence
            if record.status in OUTCOME_STATUSES:
                return

        async for message in live:
            if message.sequence <= last_sequence:
                continue
            if message.sequence == last_sequence + 1:
                pending = [
                    EventRecord(
                        message.payment_id,
                        message.sequence,
                        message.status,
                        message.message,
                        message.occurred_at,
                    )
                ]
            else:
                pending = await _events_after(services, payment_id, last_sequence)
            for record in pending:
                yield record
                last_sequence = record.sequence
                if record.status in OUTCOME_STATUSES:
                    return
