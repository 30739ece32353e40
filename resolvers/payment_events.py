"""Reading payment event history and following it live.

The database is the record, and the event bus only wakes subscribers. A
woken subscriber reads from the database every event it has not yet sent.
So an event published out of order, or lost with a subscriber's queue, is
still delivered once and in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import PaymentStatus
from db.models import Payment, PaymentEvent
from resolvers.errors import NotFoundError
from resolvers.payment_states import OUTCOME_STATUSES
from resolvers.ports import ALL_PAYMENTS_TOPIC, payment_topic
from resolvers.principals import Principal, Role, Scope
from resolvers.services import BillingServices

# Events read per query while catching up a stream.
CATCH_UP_BATCH = 500


@dataclass(frozen=True)
class EventRecord:
    event_id: int
    payment_id: int
    patient_id: int
    sequence: int
    status: PaymentStatus
    message: str
    occurred_at: datetime


async def get_visible_payment(
    session: AsyncSession, principal: Principal, payment_id: int
) -> Payment:
    """Load a payment the principal may read, or raise NOT_FOUND as if it did not exist."""
    principal.require_scope(Scope.PAYMENTS_READ)
    payment = await session.get(Payment, payment_id)
    if payment is None or not principal.can_access(Scope.PAYMENTS_READ, payment.patient_id):
        raise NotFoundError(
            "Payment not found; use an id from your payments list.", field="paymentId"
        )
    return payment


async def _events_after(
    services: BillingServices,
    *,
    after_event_id: int,
    payment_id: int | None = None,
    patient_id: int | None = None,
    limit: int = CATCH_UP_BATCH,
) -> list[EventRecord]:
    query = (
        select(PaymentEvent, Payment.patient_id)
        .join(Payment, Payment.id == PaymentEvent.payment_id)
        .where(PaymentEvent.id > after_event_id)
        .order_by(PaymentEvent.id)
        .limit(limit)
    )
    if payment_id is not None:
        query = query.where(PaymentEvent.payment_id == payment_id)
    if patient_id is not None:
        query = query.where(Payment.patient_id == patient_id)
    async with services.session_factory() as session:
        rows = await session.execute(query)
        return [
            EventRecord(
                event_id=event.id,
                payment_id=event.payment_id,
                patient_id=owner,
                sequence=event.sequence,
                status=event.status,
                message=event.message,
                occurred_at=event.occurred_at,
            )
            for event, owner in rows
        ]


async def follow_payment_events(
    services: BillingServices, payment_id: int
) -> AsyncIterator[EventRecord]:
    """Yield a payment's stored events, then each new one, ending after its outcome.

    The bus subscription opens before the history is read, so an event that
    commits in between wakes the loop and is read, not lost.
    """
    async with services.events.subscribe(payment_topic(payment_id)) as live:
        last_event_id = 0
        while True:
            for record in await _events_after(
                services, after_event_id=last_event_id, payment_id=payment_id
            ):
                yield record
                last_event_id = record.event_id
                if record.status in OUTCOME_STATUSES:
                    return
            await anext(live)


async def follow_all_events(
    services: BillingServices, principal: Principal, after_event_id: int
) -> AsyncIterator[EventRecord]:
    """Yield every payment event the principal may see after ``after_event_id``, forever.

    Patients see their own payments' events; staff and API keys with
    events:read see everyone's. Events come in id order, which is commit
    order, because every write transaction serialises on the database lock.
    """
    principal.require_scope(Scope.EVENTS_READ)
    patient_id = principal.actor_id if principal.role is Role.PATIENT else None

    async with services.events.subscribe(ALL_PAYMENTS_TOPIC) as live:
        last_event_id = after_event_id
        while True:
            batch = await _events_after(
                services, after_event_id=last_event_id, patient_id=patient_id
            )
            for record in batch:
                yield record
                last_event_id = record.event_id
            if len(batch) < CATCH_UP_BATCH:
                await anext(live)


async def latest_visible_event_id(session: AsyncSession, principal: Principal) -> int | None:
    """Return the id of the newest payment event the principal may see, or None."""
    principal.require_scope(Scope.EVENTS_READ)
    query = select(func.max(PaymentEvent.id))
    if principal.role is Role.PATIENT:
        query = query.join(Payment, Payment.id == PaymentEvent.payment_id).where(
            Payment.patient_id == principal.actor_id
        )
    return await session.scalar(query)
