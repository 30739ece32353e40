"""The refundPayment mutation, for staff and for API keys with payments:write."""

from __future__ import annotations

import strawberry

from resolvers.errors import BillingError
from resolvers.refunds import RefundRequest, refund_payment
from schema.context import Info
from schema.errors import UserError, user_errors
from schema.ids import database_id_or_missing
from schema.types.payment import Payment, Refund


@strawberry.input
class RefundPaymentInput:
    payment_id: strawberry.ID
    amount_cents: int | None = strawberry.field(
        default=None, description="Cents to refund; everything not yet refunded if omitted."
    )
    reason: str = strawberry.field(description="Why, for the audit trail, e.g. 'Billed twice'.")
    idempotency_key: str = strawberry.field(
        description="A new random value per refund; resend it only to retry that refund."
    )


@strawberry.type
class RefundPaymentPayload:
    refund: Refund | None = None
    payment: Payment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RefundMutations:
    @strawberry.mutation(
        description="Refund all or part of a succeeded payment: never more than was "
        "captured less earlier refunds. Staff, or API keys with payments:write. The money "
        "comes off the invoices the payment paid, newest first, so they owe it again until "
        "the invoice is adjusted."
    )
    async def refund_payment(self, info: Info, input: RefundPaymentInput) -> RefundPaymentPayload:
        try:
            result = await refund_payment(
                info.context.services,
                await info.context.request_info("refundPayment"),
                RefundRequest(
                    payment_id=database_id_or_missing(input.payment_id, "Payment"),
                    amount_cents=input.amount_cents,
                    reason=input.reason,
                    idempotency_key=input.idempotency_key,
                ),
            )
        except BillingError as error:
            return RefundPaymentPayload(user_errors=user_errors(error))
        return RefundPaymentPayload(
            refund=Refund.from_row(result.refund), payment=Payment.from_row(result.payment)
        )
