"""Payments, the methods they were made with, and their status events."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from db import models
from schema.context import Info
from schema.enums import CardFunding, FailureCode, PaymentMethodType, PaymentStatus
from schema.ids import encode_event_cursor, encode_global_id
from schema.permissions import ReadPatients, ReadPayments
from schema.types.invoice import Allocation
from schema.types.money import Money, money

if TYPE_CHECKING:
    from schema.types.patient import Patient


@strawberry.type(description="A stored card or bank account. Only the last four digits are kept.")
class PaymentMethod(relay.Node):
    id: relay.NodeID[int]
    method_type: PaymentMethodType
    brand: str | None = strawberry.field(description='Card network, such as "Visa"; null for ACH.')
    last4: str
    funding: CardFunding | None = strawberry.field(description="Card funding; null for ACH.")
    exp_month: int | None
    exp_year: int | None
    bank_name: str | None = strawberry.field(description="Bank of an ACH account; null for cards.")
    patient_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.PaymentMethod) -> PaymentMethod:
        return cls(
            id=row.id,
            method_type=row.method_type,
            brand=row.brand,
            last4=row.last4,
            funding=row.funding,
            exp_month=row.exp_month,
            exp_year=row.exp_year,
            bank_name=row.bank_name,
            patient_id=row.patient_id,
        )


@strawberry.type(description="One status change of a payment, in the order it happened.")
class PaymentEvent:
    sequence: int = strawberry.field(description="Position in the payment's history, from 1.")
    status: PaymentStatus
    occurred_at: datetime
    message: str
    payment_db_id: strawberry.Private[int]
    patient_id: strawberry.Private[int]
    event_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.PaymentEvent, patient_id: int) -> PaymentEvent:
        return cls(
            sequence=row.sequence,
            status=row.status,
            occurred_at=row.occurred_at,
            message=row.message,
            payment_db_id=row.payment_id,
            patient_id=patient_id,
            event_id=row.id,
        )

    @strawberry.field(
        description="Pass to paymentEvents(after:) to resume a stream after this event."
    )
    def cursor(self) -> str:
        return encode_event_cursor(self.event_id)

    @strawberry.field
    def payment_id(self) -> strawberry.ID:
        return strawberry.ID(encode_global_id("Payment", self.payment_db_id))


@strawberry.type(description="Money returned to the patient from a payment.")
class Refund:
    amount: Money
    reason: str = strawberry.field(description="Why, as the staff member or partner wrote it.")
    status: str = strawberry.field(description="PENDING, SUCCEEDED or FAILED.")
    failure_reason: str | None
    requested_by: str = strawberry.field(description='Who asked, e.g. "staff:3" or "api_key:7".')
    created_at: datetime
    refund_db_id: strawberry.Private[int]
    payment_db_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Refund) -> Refund:
        return cls(
            amount=money(row.amount_cents),
            reason=row.reason,
            status=row.status,
            failure_reason=row.failure_reason,
            requested_by=row.requested_by,
            created_at=row.created_at,
            refund_db_id=row.id,
            payment_db_id=row.payment_id,
        )

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_global_id("Refund", self.refund_db_id))

    @strawberry.field
    def payment_id(self) -> strawberry.ID:
        return strawberry.ID(encode_global_id("Payment", self.payment_db_id))


@strawberry.type
class Payment(relay.Node):
    id: relay.NodeID[int]
    confirmation_number: str = strawberry.field(
        description="Code to quote to the billing office, e.g. CGH-7KQ2-M9XA."
    )
    method_type: PaymentMethodType
    status: PaymentStatus
    failure_code: FailureCode | None
    failure_reason: str | None = strawberry.field(description="Why it failed, for the patient.")
    statement_descriptor: str = strawberry.field(
        description="The text this payment shows on a card or bank statement."
    )
    created_at: datetime
    settled_at: datetime | None
    expected_settlement_on: date | None = strawberry.field(
        description="The date the processor expects the money to settle."
    )
    amount_cents: strawberry.Private[int]
    refunded_cents: strawberry.Private[int]
    currency: strawberry.Private[str]
    payment_method_id: strawberry.Private[int]
    patient_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Payment) -> Payment:
        return cls(
            id=row.id,
            confirmation_number=row.confirmation_number,
            method_type=row.method_type,
            status=row.status,
            failure_code=row.failure_code,
            failure_reason=row.failure_reason,
            statement_descriptor=row.statement_descriptor,
            created_at=row.created_at,
            settled_at=row.settled_at,
            expected_settlement_on=row.expected_settlement_on,
            amount_cents=row.amount_cents,
            refunded_cents=row.refunded_cents,
            currency=row.currency,
            payment_method_id=row.payment_method_id,
            patient_id=row.patient_id,
        )

    @strawberry.field
    def amount(self) -> Money:
        return money(self.amount_cents, self.currency)

    @strawberry.field
    def amount_refunded(self) -> Money:
        return money(self.refunded_cents, self.currency)

    @strawberry.field(permission_classes=[ReadPayments])
    async def method(self, info: Info) -> PaymentMethod | None:
        row = await info.context.loaders.payment_method.load(self.payment_method_id)
        if row is None:
            raise LookupError(
                f"payment {self.id} refers to missing method {self.payment_method_id}"
            )
        return PaymentMethod.from_row(row)

    @strawberry.field(
        description="How the money was applied to invoices; empty once a payment has failed. "
        "A refund shows as a negative amount on the invoice it came off.",
        permission_classes=[ReadPayments],
    )
    async def allocations(self, info: Info) -> list[Allocation] | None:
        rows = await info.context.loaders.payment_allocations.load(self.id)
        return [Allocation.from_row(row, self.patient_id) for row in rows]

    @strawberry.field(description="Money beyond the chosen invoices, kept as account credit.")
    async def credited(self, info: Info) -> Money:
        rows = await info.context.loaders.payment_allocations.load(self.id)
        applied = sum(row.amount_cents for row in rows)
        if self.status in {PaymentStatus.FAILED, PaymentStatus.CANCELED}:
            return money(0, self.currency)
        # Refunds come off credit first, then off invoices as negative allocations.
        return money(self.amount_cents - self.refunded_cents - applied, self.currency)

    @strawberry.field(
        description="Whose payment this is; for staff and partner dashboards.",
        permission_classes=[ReadPatients],
    )
    async def patient(
        self, info: Info
    ) -> Annotated[Patient, strawberry.lazy("schema.types.patient")] | None:
        from schema.types.patient import Patient

        async with info.context.database.session() as session:
            row = await session.get_one(models.Patient, self.patient_id)
        return Patient.from_row(row)

    @strawberry.field(
        description="Refunds of this payment, oldest first, with their reasons.",
        permission_classes=[ReadPayments],
    )
    async def refunds(self, info: Info) -> list[Refund] | None:
        rows = await info.context.loaders.payment_refunds.load(self.id)
        return [Refund.from_row(row) for row in rows]

    @strawberry.field(permission_classes=[ReadPayments])
    async def events(self, info: Info) -> list[PaymentEvent] | None:
        rows = await info.context.loaders.payment_events.load(self.id)
        return [PaymentEvent.from_row(row, self.patient_id) for row in rows]
