"""Mutations that add payment methods and pay bills."""

from __future__ import annotations

import strawberry

from db.base import utc_now
from resolvers import payment_methods, payments
from resolvers.errors import BillingError
from resolvers.ports import BankAccountDetails, CardDetails
from schema.context import Info
from schema.enums import PaymentMethodType
from schema.errors import UserError, user_errors
from schema.ids import database_id_or_missing
from schema.types.payment import Payment, PaymentMethod


@strawberry.input(description="Card details; sent to the processor and never stored.")
class CardInput:
    number: str
    exp_month: int
    exp_year: int = strawberry.field(description="Four digits, such as 2030.")
    cvc: str


@strawberry.input(description="US bank account for ACH; sent to the processor and never stored.")
class BankAccountInput:
    routing_number: str
    account_number: str
    account_holder_name: str


@strawberry.input
class AddPaymentMethodInput:
    method_type: PaymentMethodType
    card: CardInput | None = strawberry.field(
        default=None, description="Required for CREDIT_CARD and DEBIT_CARD."
    )
    bank_account: BankAccountInput | None = strawberry.field(
        default=None, description="Required for ACH."
    )


@strawberry.input
class PayBillInput:
    idempotency_key: str = strawberry.field(
        description="A new random value (a UUID) per payment; resend it only to retry that payment."
    )
    payment_method_id: strawberry.ID
    amount_cents: int | None = strawberry.field(
        default=None,
        description="Cents to pay; the whole balance (or the chosen invoices) if omitted.",
    )
    invoice_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Invoices to pay, in order; open invoices oldest due first if omitted.",
    )


@strawberry.type
class AddPaymentMethodPayload:
    payment_method: PaymentMethod | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemovePaymentMethodPayload:
    payment_method: PaymentMethod | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PayBillPayload:
    payment: Payment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _new_method(input: AddPaymentMethodInput) -> payment_methods.NewPaymentMethod:
    card = bank_account = None
    if input.card is not None:
        card = CardDetails(
            number=input.card.number,
            exp_month=input.card.exp_month,
            exp_year=input.card.exp_year,
            cvc=input.card.cvc,
        )
    if input.bank_account is not None:
        bank_account = BankAccountDetails(
            routing_number=input.bank_account.routing_number,
            account_number=input.bank_account.account_number,
            account_holder_name=input.bank_account.account_holder_name,
        )
    return payment_methods.NewPaymentMethod(
        method_type=input.method_type, card=card, bank_account=bank_account
    )


def _pay_bill_request(input: PayBillInput) -> payments.PayBillRequest:
    invoice_ids = None
    if input.invoice_ids is not None:
        invoice_ids = tuple(database_id_or_missing(value, "Invoice") for value in input.invoice_ids)
    return payments.PayBillRequest(
        idempotency_key=input.idempotency_key,
        payment_method_id=database_id_or_missing(input.payment_method_id, "PaymentMethod"),
        amount_cents=input.amount_cents,
        invoice_ids=invoice_ids,
    )


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(description="Store a card or bank account for paying bills.")
    async def add_payment_method(
        self, info: Info, input: AddPaymentMethodInput
    ) -> AddPaymentMethodPayload:
        services = info.context.services
        try:
            patient_id = await info.context.require_patient_id()
            method = await payment_methods.add_payment_method(
                services.session_factory,
                services.processor,
                patient_id,
                _new_method(input),
                today=utc_now().date(),
                audit=await info.context.request_info("addPaymentMethod"),
            )
        except BillingError as error:
            return AddPaymentMethodPayload(user_errors=user_errors(error))
        return AddPaymentMethodPayload(payment_method=PaymentMethod.from_row(method))

    @strawberry.mutation(
        description="Pay all or part of the balance. Retrying with the same idempotencyKey "
        "returns the same payment and never charges twice."
    )
    async def pay_bill(self, info: Info, input: PayBillInput) -> PayBillPayload:
        try:
            patient_id = await info.context.require_patient_id()
            result = await payments.pay_bill(
                info.context.services,
                patient_id,
                _pay_bill_request(input),
                audit=await info.context.request_info("payBill"),
            )
        except BillingError as error:
            return PayBillPayload(user_errors=user_errors(error))
        return PayBillPayload(payment=Payment.from_row(result.payment))

    @strawberry.mutation(
        description="Remove a stored card or bank account. Past payments still show it."
    )
    async def remove_payment_method(
        self, info: Info, payment_method_id: strawberry.ID
    ) -> RemovePaymentMethodPayload:
        try:
            patient_id = await info.context.require_patient_id()
            method = await payment_methods.remove_payment_method(
                info.context.services.session_factory,
                patient_id,
                database_id_or_missing(payment_method_id, "PaymentMethod"),
                audit=await info.context.request_info("removePaymentMethod"),
            )
        except BillingError as error:
            return RemovePaymentMethodPayload(user_errors=user_errors(error))
        return RemovePaymentMethodPayload(payment_method=PaymentMethod.from_row(method))
