"""The Money type: integer cents with a currency and a display string."""

from __future__ import annotations

import strawberry

from resolvers.money import CURRENCY, format_cents


@strawberry.type(description="An amount of money. Amounts are whole cents, never fractions.")
class Money:
    cents: int = strawberry.field(description="The amount in cents: 12345 is $123.45.")
    currency: str = strawberry.field(description="ISO 4217 currency code; always USD today.")

    @strawberry.field(description='The amount as a US reader writes it, e.g. "$1,234.56".')
    def formatted(self) -> str:
        return format_cents(self.cents, self.currency)


def money(cents: int, currency: str = CURRENCY) -> Money:
    return Money(cents=cents, currency=currency)
