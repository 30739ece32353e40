"""Conversion of domain errors into payload userErrors and into GraphQL errors."""

from __future__ import annotations

import enum

import strawberry
from graphql import GraphQLError

from resolvers.errors import BillingError


@strawberry.enum(description="Stable codes clients switch on; the message is for people.")
class UserErrorCode(enum.Enum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    AMOUNT_EXCEEDS_BALANCE = "AMOUNT_EXCEEDS_BALANCE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    INVALID_CARD = "INVALID_CARD"
    INVALID_BANK_ACCOUNT = "INVALID_BANK_ACCOUNT"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 (an error code)
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_INPUT = "INVALID_INPUT"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    REFUND_EXCEEDS_PAYMENT = "REFUND_EXCEEDS_PAYMENT"
    PAYMENT_NOT_REFUNDABLE = "PAYMENT_NOT_REFUNDABLE"


@strawberry.type(description="A business rule that rejected a mutation; nothing was written.")
class UserError:
    field: str | None = strawberry.field(
        description="The input field at fault, as a dotted path such as card.number."
    )
    code: UserErrorCode
    message: str = strawberry.field(description="What went wrong and what to do about it.")


def user_errors(error: BillingError) -> list[UserError]:
    return [UserError(field=error.field, code=UserErrorCode(error.code), message=error.message)]


class ClientError(GraphQLError):
    """A domain error raised from a query or subscription, shown unmasked with its code."""

    def __init__(self, error: BillingError) -> None:
        extensions: dict[str, object] = {"code": error.code}
        if error.field:
            extensions["field"] = error.field
        scope = getattr(error, "scope", None)
        if scope:
            extensions["scope"] = scope
        super().__init__(error.message, extensions=extensions, original_error=error)
