"""GraphQL enums, registered from the database's own enum classes."""

from __future__ import annotations

import strawberry

from db import enums

AppointmentKind = strawberry.enum(enums.AppointmentKind, description="What an appointment is for.")
AppointmentModality = strawberry.enum(
    enums.AppointmentModality, description="Whether an appointment is held by video or in person."
)
AppointmentStatus = strawberry.enum(enums.AppointmentStatus)
InvoiceStatus = strawberry.enum(enums.InvoiceStatus)
LineCategory = strawberry.enum(
    enums.LineCategory, description="Why an invoice line is charged, as an insurer would name it."
)
PaymentMethodType = strawberry.enum(enums.PaymentMethodType)
CardFunding = strawberry.enum(enums.CardFunding)
PaymentStatus = strawberry.enum(
    enums.PaymentStatus,
    description=(
        "Where a payment stands. It moves only forward: PENDING, PROCESSING, then "
        "SUCCEEDED, FAILED or CANCELED; a succeeded payment may later be refunded."
    ),
)
FailureCode = strawberry.enum(enums.FailureCode, description="Why a payment failed.")
