"""Enumerations stored in the database and shared by every layer above it."""

from __future__ import annotations

import enum


class AppointmentKind(enum.StrEnum):
    INTAKE = "INTAKE"
    THERAPY = "THERAPY"
    FAMILY_THERAPY = "FAMILY_THERAPY"
    MEDICATION_MANAGEMENT = "MEDICATION_MANAGEMENT"


class AppointmentModality(enum.StrEnum):
    VIDEO = "VIDEO"
    IN_PERSON = "IN_PERSON"


class AppointmentStatus(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    NO_SHOW = "NO_SHOW"


class InvoiceStatus(enum.StrEnum):
    OPEN = "OPEN"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    VOID = "VOID"


class LineCategory(enum.StrEnum):
    COPAY = "COPAY"
    COINSURANCE = "COINSURANCE"
    DEDUCTIBLE = "DEDUCTIBLE"
    SELF_PAY = "SELF_PAY"
    LATE_CANCELLATION_FEE = "LATE_CANCELLATION_FEE"
    NO_SHOW_FEE = "NO_SHOW_FEE"
    OTHER = "OTHER"


class PaymentMethodType(enum.StrEnum):
    CREDIT_CARD = "CREDIT_CARD"
    DEBIT_CARD = "DEBIT_CARD"
    ACH = "ACH"


class CardFunding(enum.StrEnum):
    CREDIT = "CREDIT"
    DEBIT = "DEBIT"
    PREPAID = "PREPAID"


class PaymentStatus(enum.StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


class FailureCode(enum.StrEnum):
    CARD_DECLINED = "CARD_DECLINED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
    PROCESSOR_ERROR = "PROCESSOR_ERROR"


# Payments in these states still hold the invoices they were allocated to:
# the money is either collected or on its way.
ALLOCATION_HOLDING_STATUSES = frozenset(
    {
        PaymentStatus.PENDING,
        PaymentStatus.PROCESSING,
        PaymentStatus.SUCCEEDED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    }
)

IN_FLIGHT_STATUSES = frozenset({PaymentStatus.PENDING, PaymentStatus.PROCESSING})

COLLECTED_STATUSES = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
)
