"""The Subscription root: live payment status."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers.errors import BillingError
from resolvers.payment_events import follow_payment_events, get_patient_payment
from schema.context import Info
from schema.errors import ClientError
from schema.ids import database_id_or_missing
from schema.types.payment import PaymentEvent


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A payment's events so far, then each new one as it happens; the "
        "stream ends after SUCCEEDED, FAILED or CANCELED. Subscribing late misses nothing."
    )
    async def payment_status_changed(
        self, info: Info, payment_id: strawberry.ID
    ) -> AsyncGenerator[PaymentEvent, None]:
        services = info.context.services
        try:
            patient = await info.context.require_patient()
            database_id = database_id_or_missing(payment_id, "Payment")
            async with services.session_factory() as session:
                await get_patient_payment(session, patient.id, database_id)
        except BillingError as error:
            raise ClientError(error) from error

        async for record in follow_payment_events(services, database_id):
            yield PaymentEvent(
                sequence=record.sequence,
                status=record.status,
                occurred_at=record.occurred_at,
                message=record.message,
                payment_db_id=record.payment_id,
            )
