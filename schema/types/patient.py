"""The Patient type: who they are, what they owe, and their billing history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from db import models
from resolvers import listings
from resolvers.errors import BillingError
from resolvers.payment_methods import list_payment_methods
from schema.context import Info
from schema.enums import InvoiceStatus, PaymentMethodType, PaymentStatus
from schema.errors import ClientError
from schema.permissions import ReadPatients, ReadPayments
from schema.types.appointment import Appointment
from schema.types.connections import to_connection
from schema.types.invoice import Invoice
from schema.types.money import Money, money
from schema.types.payment import Payment, PaymentMethod

FIRST_DESCRIPTION = "Page size, 0 to 100; 20 when omitted."
# Connections are nullable so that a bad argument (first: 500) nulls only the
# list, with an error beside it, rather than the whole patient.
AFTER_DESCRIPTION = "endCursor of the previous page."


@strawberry.type
class Patient(relay.Node):
    id: relay.NodeID[int]
    name: str
    email: str
    patient_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Patient) -> Patient:
        return cls(id=row.id, name=row.name, email=row.email, patient_id=row.id)

    @strawberry.field(
        description="Still owed on open invoices after succeeded and in-flight payments.",
        permission_classes=[ReadPatients],
    )
    async def balance(self, info: Info) -> Money | None:
        return money(await info.context.loaders.balance.load(self.id))

    @strawberry.field(
        description="Money paid beyond what invoices owed, held for the patient.",
        permission_classes=[ReadPatients],
    )
    async def account_credit(self, info: Info) -> Money | None:
        return money(await info.context.loaders.account_credit.load(self.id))

    @strawberry.field(
        description="Upcoming soonest first; past or all, most recent first.",
        permission_classes=[ReadPatients],
    )
    async def appointments(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        upcoming: Annotated[
            bool | None,
            strawberry.argument(description="true for future appointments, false for past."),
        ] = None,
    ) -> relay.Connection[Appointment] | None:
        try:
            async with info.context.database.session() as session:
                page = await listings.list_appointments(
                    session, self.id, first=first, after=after, upcoming=upcoming
                )
        except BillingError as error:
            raise ClientError(error) from error
        return to_connection(page, Appointment.from_row)

    @strawberry.field(description="Newest due date first.", permission_classes=[ReadPatients])
    async def invoices(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        status: list[InvoiceStatus] | None = None,
    ) -> relay.Connection[Invoice] | None:
        try:
            async with info.context.database.session() as session:
                page = await listings.list_invoices(
                    session, self.id, first=first, after=after, statuses=status
                )
        except BillingError as error:
            raise ClientError(error) from error
        return to_connection(page, Invoice.from_row)

    @strawberry.field(
        description="Newest first; from is inclusive and to exclusive.",
        permission_classes=[ReadPayments],
    )
    async def payments(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        status: list[PaymentStatus] | None = None,
        method_type: list[PaymentMethodType] | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> relay.Connection[Payment] | None:
        filters = listings.PaymentFilter(
            statuses=status, method_types=method_type, created_from=from_, created_to=to
        )
        try:
            async with info.context.database.session() as session:
                page = await listings.list_payments(
                    session, self.id, first=first, after=after, filters=filters
                )
        except BillingError as error:
            raise ClientError(error) from error
        return to_connection(page, Payment.from_row)

    @strawberry.field(
        description="Stored cards and bank accounts, excluding removed ones.",
        permission_classes=[ReadPayments],
    )
    async def payment_methods(self, info: Info) -> list[PaymentMethod] | None:
        async with info.context.database.session() as session:
            rows = await list_payment_methods(session, self.id)
        return [PaymentMethod.from_row(row) for row in rows]
