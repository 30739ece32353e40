"""Payment methods, payments, their allocations and events, and account credit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utc_now
from db.enums import CardFunding, FailureCode, PaymentMethodType, PaymentStatus
from db.models.columns import enum_column


class PaymentMethod(Base):
    """A card or bank account as the processor tokenized it.

    Only the processor's token and what a patient needs to recognise the
    method are kept: never the full card or account number, nor the CVC.
    """

    __tablename__ = "payment_methods"
    __table_args__ = (Index("ix_payment_methods_patient_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    method_type: Mapped[PaymentMethodType] = mapped_column(
        enum_column(PaymentMethodType, "payment_method_type")
    )
    processor_token: Mapped[str] = mapped_column(String(255))
    brand: Mapped[str | None] = mapped_column(String(40))
    last4: Mapped[str] = mapped_column(String(4))
    funding: Mapped[CardFunding | None] = mapped_column(enum_column(CardFunding, "card_funding"))
    exp_month: Mapped[int | None]
    exp_year: Mapped[int | None]
    bank_name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # Removed methods stay, so past payments still show what paid them.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("patient_id", "idempotency_key", name="uq_payments_patient_idempotency"),
        Index("ix_payments_patient_id_created_at", "patient_id", "created_at"),
        Index("ix_payments_status", "status"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("refunded_cents >= 0", name="refunded_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    payment_method_id: Mapped[int] = mapped_column(ForeignKey("payment_methods.id"))
    method_type: Mapped[PaymentMethodType] = mapped_column(
        enum_column(PaymentMethodType, "payment_method_type")
    )
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[PaymentStatus] = mapped_column(enum_column(PaymentStatus, "payment_status"))
    confirmation_number: Mapped[str] = mapped_column(String(20), unique=True)
    statement_descriptor: Mapped[str] = mapped_column(String(22))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the request as the client sent it, to tell a retry from a
    # different request that reuses the key.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    processor_reference: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_code: Mapped[FailureCode | None] = mapped_column(
        enum_column(FailureCode, "failure_code")
    )
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    refunded_cents: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expected_settlement_on: Mapped[date | None]


class Allocation(Base):
    """The part of a payment applied to one invoice.

    A failed or canceled payment's allocations are released (``released_at``
    set) rather than deleted, so the history of what was tried stays visible.
    A refund adds a negative allocation, with ``refund_id`` set, for the
    money it takes back off an invoice.
    """

    __tablename__ = "allocations"
    __table_args__ = (
        Index("ix_allocations_payment_id", "payment_id"),
        Index("ix_allocations_invoice_id", "invoice_id"),
        CheckConstraint(
            "(refund_id IS NULL AND amount_cents > 0) "
            "OR (refund_id IS NOT NULL AND amount_cents < 0)",
            name="sign_matches_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"), default=None)
    amount_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PaymentEvent(Base):
    """One status transition of a payment.

    ``sequence`` counts from 1 within a payment; ``id`` grows across all
    payments and serves as a resumable cursor for event streams.
    """

    __tablename__ = "payment_events"
    __table_args__ = (
        UniqueConstraint("payment_id", "sequence", name="uq_payment_events_sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    sequence: Mapped[int]
    status: Mapped[PaymentStatus] = mapped_column(enum_column(PaymentStatus, "payment_status"))
    message: Mapped[str] = mapped_column(String(300))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class AccountCreditEntry(Base):
    """Money a patient paid beyond what the chosen invoices owed.

    Like an allocation it is released when its payment fails, and it counts
    towards the patient's credit only once the payment has been collected.
    """

    __tablename__ = "account_credit_entries"
    __table_args__ = (Index("ix_account_credit_entries_patient_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    amount_cents: Mapped[int]
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Refund(Base):
    """Money returned to the patient from a collected payment, in full or in part."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint(
            "requested_by", "idempotency_key", name="uq_refunds_requester_idempotency"
        ),
        Index("ix_refunds_payment_id", "payment_id"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    amount_cents: Mapped[int]
    reason: Mapped[str] = mapped_column(String(300))
    # The principal that asked, e.g. "staff:3" or "api_key:7".
    requested_by: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    processor_reference: Mapped[str | None] = mapped_column(String(255))
    # PENDING while the processor is asked, then SUCCEEDED or FAILED. A pending
    # refund already counts against what is left to refund.
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
