"""GraphQL enums, registered from the database's own enum classes.

``strawberry.enum`` marks each class in place, so the names re-exported here
are the very classes the models store and mypy checks them as such.
"""

from __future__ import annotations

import strawberry

from db.enums import (
    AppointmentKind,
    AppointmentModality,
    AppointmentStatus,
    CardFunding,
    FailureCode,
    InvoiceStatus,
    LineCategory,
    PaymentMethodType,
    PaymentStatus,
)

strawberry.enum(AppointmentKind, description="What an appointment is for.")
strawberry.enum(
    AppointmentModality, description="Whether an appointment is held by video or in person."
)
strawberry.enum(AppointmentStatus)
strawberry.enum(InvoiceStatus)
strawberry.enum(LineCategory, description="Why an invoice line is charged, as an insurer names it.")
strawberry.enum(PaymentMethodType)
strawberry.enum(CardFunding)
strawberry.enum(
    PaymentStatus,
    description=(
        "Where a payment stands. It moves only forward: PENDING, PROCESSING, then "
        "SUCCEEDED, FAILED or CANCELED; a succeeded payment may later be refunded."
    ),
)
strawberry.enum(FailureCode, description="Why a payment failed.")

__all__ = [
    "AppointmentKind",
    "AppointmentModality",
    "AppointmentStatus",
    "CardFunding",
    "FailureCode",
    "InvoiceStatus",
    "LineCategory",
    "PaymentMethodType",
    "PaymentStatus",
]
