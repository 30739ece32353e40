"""The collaborators every billing operation is handed by the gateway."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import PaymentEvent
from resolvers.ports import EventBus, PaymentEventMessage, PaymentProcessor, SessionRevocations
from resolvers.sessions import SessionPolicy
from resolvers.sign_in_limits import SignInGuard


@dataclass(frozen=True)
class BillingServices:
    session_factory: async_sessionmaker[AsyncSession]
    processor: PaymentProcessor
    events: EventBus
    # First characters of every statement descriptor, e.g. "CEDAR GROVE HLTH".
    # It names the practice, not the kind of care, to keep bank statements discreet.
    descriptor_prefix: str
    confirmation_prefix: str
    session_policy: SessionPolicy
    session_events: SessionRevocations
    sign_in_guard: SignInGuard


def event_message(event: PaymentEvent, patient_id: int) -> PaymentEventMessage:
    return PaymentEventMessage(
        event_id=event.id,
        payment_id=event.payment_id,
        patient_id=patient_id,
        sequence=event.sequence,
        status=event.status,
        message=event.message,
        occurred_at=event.occurred_at,
    )


async def publish_events(services: BillingServices, events: list[tuple[PaymentEvent, int]]) -> None:
    """Publish stored events, after their transaction has committed."""
    for event, patient_id in events:
        await services.events.publish(event_message(event, patient_id))
