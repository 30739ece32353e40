"""The Subscription root: live payment status for one payment, and the stream of all."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers.audit import RequestInfo, record_reads
from resolvers.errors import BillingError, InvalidInputError
from resolvers.payment_events import (
    EventRecord,
    follow_all_events,
    follow_payment_events,
    get_visible_payment,
)
from resolvers.services import BillingServices
from schema.context import Info
from schema.errors import ClientError
from schema.ids import database_id_or_missing, decode_event_cursor
from schema.types.payment import PaymentEvent


def _event(record: EventRecord) -> PaymentEvent:
    return PaymentEvent(
        sequence=record.sequence,
        status=record.status,
        occurred_at=record.occurred_at,
        message=record.message,
        payment_db_id=record.payment_id,
        patient_id=record.patient_id,
        event_id=record.event_id,
    )


async def _audited(
    event: PaymentEvent, services: BillingServices, request: RequestInfo, audited: set[int]
) -> PaymentEvent:
    if event.patient_id not in audited:
        audited.add(event.patient_id)
        await record_reads(services.session_factory, request, [event.patient_id])
    return event


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
            principal = await info.context.require_principal()
            database_id = database_id_or_missing(payment_id, "Payment")
            async with services.session_factory() as session:
                payment = await get_visible_payment(session, principal, database_id)
        except BillingError as error:
            raise ClientError(error) from error
        await record_reads(
            services.session_factory,
            await info.context.request_info("paymentStatusChanged"),
            [payment.patient_id],
        )

        async for record in follow_payment_events(services, database_id):
            yield _event(record)

    @strawberry.subscription(
        description="Every payment event you may see, in order, starting after the event "
        "whose cursor is given (from the beginning without one). A dashboard that "
        "reconnects with its last cursor misses nothing and repeats nothing. Patients "
        "see their own payments; staff and API keys with events:read see all."
    )
    async def payment_events(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[PaymentEvent, None]:
        services = info.context.services
        try:
            principal = await info.context.require_principal()
            after_event_id = 0
            if after is not None:
                decoded = decode_event_cursor(after)
                if decoded is None:
                    raise InvalidInputError(
                        "after is not an event cursor; pass a PaymentEvent's cursor unchanged.",
                        field="after",
                    )
                after_event_id = decoded
            stream = follow_all_events(services, principal, after_event_id)
            first = await anext(stream)
        except BillingError as error:
            raise ClientError(error) from error

        # Each patient whose events this stream delivers is audited once per subscription.
        request = await info.context.request_info("paymentEvents")
        audited: set[int] = set()
        yield await _audited(_event(first), services, request, audited)
        async for record in stream:
            yield await _audited(_event(record), services, request, audited)
