"""Refunding collected payments, in full or in part, by staff or a partner.

A refund is reserved in one transaction (so two clerks cannot both refund
the last dollar), sent to the processor outside it, and applied in a second
transaction: the payment's refunded total and status, an event, and the
money taken back off account credit first, then off invoices, newest
application first, as negative allocations. The invoices it came off owe
that money again until staff adjust them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utc_now
from db.engine import write_transaction
from db.enums import PaymentStatus
from db.models import AccountCreditEntry, Allocation, Payment, Refund
from resolvers.audit import AuditAction, RequestInfo, add_audit_event
from resolvers.errors import (
    IdempotencyKeyReusedError,
    InvalidAmountError,
    InvalidInputError,
    NotFoundError,
    PaymentNotRefundableError,
    ProcessorError,
    RefundExceedsPaymentError,
)
from resolvers.money import format_cents
from resolvers.payment_states import transition_payment
from resolvers.payments import MAX_IDEMPOTENCY_KEY_LENGTH
from resolvers.ports import RefundCharge
from resolvers.principals import Role, Scope
from resolvers.services import BillingServices, publish_events

logger = logging.getLogger(__name__)

REFUNDABLE_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)
MAX_REASON_LENGTH = 300


@dataclass(frozen=True)
class RefundRequest:
    payment_id: int
    reason: str
    idempotency_key: str
    amount_cents: int | None = None

    def fingerprint(self) -> str:
        body = json.dumps([self.payment_id, self.amount_cents, self.reason], separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class RefundResult:
    refund: Refund
    payment: Payment


def _validate(request: RefundRequest) -> None:
    if (
        not request.idempotency_key.strip()
        or len(request.idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH
    ):
        raise InvalidInputError(
            f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters; "
            "send a new UUID for each refund and reuse it only to retry that refund.",
            field="idempotencyKey",
        )
    if not request.reason.strip() or len(request.reason) > MAX_REASON_LENGTH:
        raise InvalidInputError(
            f"reason must be 1 to {MAX_REASON_LENGTH} characters, e.g. 'Billed twice for 3/14'.",
            field="reason",
        )
    if request.amount_cents is not None and request.amount_cents <= 0:
        raise InvalidAmountError(
            f"amountCents must be a positive number of cents, got {request.amount_cents}.",
            field="amountCents",
        )


async def _reserved_cents(session: AsyncSession, payment_id: int) -> int:
    """Cents refunded or being refunded from a payment."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.payment_id == payment_id, Refund.status != "FAILED"
        )
    )
    return int(total or 0)


async def _reserve_refund(
    services: BillingServices, info: RequestInfo, request: RefundRequest
) -> tuple[Refund, Payment, bool]:
    async with write_transaction(services.session_factory) as session:
        existing = await session.scalar(
            select(Refund).where(
                Refund.requested_by == info.principal.actor,
                Refund.idempotency_key == request.idempotency_key,
            )
        )
        if existing is not None:
            if existing.request_fingerprint != request.fingerprint():
                raise IdempotencyKeyReusedError(
                    "This idempotencyKey was already used for a different refund; "
                    "send a new key for a new refund.",
                    field="idempotencyKey",
                )
            return existing, await session.get_one(Payment, existing.payment_id), False

        payment = await session.get(Payment, request.payment_id, with_for_update=True)
        if payment is None:
            raise NotFoundError("Payment not found; check paymentId.", field="paymentId")
        if payment.status is PaymentStatus.REFUNDED:
            raise PaymentNotRefundableError(
                f"Payment {payment.confirmation_number} is already fully refunded.",
                field="paymentId",
            )
        if payment.status not in REFUNDABLE_STATUSES:
            raise PaymentNotRefundableError(
                f"Payment {payment.confirmation_number} is {payment.status.value}; only a "
                "succeeded or partly refunded payment can be refunded.",
                field="paymentId",
            )

        refundable = payment.amount_cents - await _reserved_cents(session, payment.id)
        amount = request.amount_cents if request.amount_cents is not None else refundable
        if amount <= 0 or amount > refundable:
            raise RefundExceedsPaymentError(
                f"At most {format_cents(refundable)} of payment {payment.confirmation_number} "
                "can still be refunded; lower amountCents.",
                field="amountCents",
            )

        refund = Refund(
            payment_id=payment.id,
            amount_cents=amount,
            reason=request.reason.strip(),
            requested_by=info.principal.actor,
            idempotency_key=request.idempotency_key,
            request_fingerprint=request.fingerprint(),
            status="PENDING",
        )
        session.add(refund)
        await session.flush()
    return refund, payment, True


async def _take_back_cents(session: AsyncSession, payment: Payment, refund: Refund) -> None:
    """Take a refund's cents off the payment's credit, then off its invoices, newest first."""
    remaining = refund.amount_cents
    credit = await session.scalar(
        select(func.coalesce(func.sum(AccountCreditEntry.amount_cents), 0)).where(
            AccountCreditEntry.payment_id == payment.id, AccountCreditEntry.released_at.is_(None)
        )
    )
    from_credit = min(int(credit or 0), remaining)
    if from_credit > 0:
        session.add(
            AccountCreditEntry(
                patient_id=payment.patient_id,
                payment_id=payment.id,
                amount_cents=-from_credit,
                reason=f"Refund {refund.id}",
            )
        )
        remaining -= from_credit

    net_by_invoice = await session.execute(
        select(Allocation.invoice_id, func.sum(Allocation.amount_cents), func.max(Allocation.id))
        .where(Allocation.payment_id == payment.id, Allocation.released_at.is_(None))
        .group_by(Allocation.invoice_id)
        .order_by(func.max(Allocation.id).desc())
    )
    for invoice_id, net_cents, _latest in net_by_invoice.all():
        if remaining == 0:
            break
        taken = min(int(net_cents), remaining)
        if taken > 0:
            session.add(
                Allocation(
                    payment_id=payment.id,
                    invoice_id=invoice_id,
                    amount_cents=-taken,
                    refund_id=refund.id,
                )
            )
            remaining -= taken
    await session.flush()


async def refund_payment(
    services: BillingServices, info: RequestInfo, request: RefundRequest
) -> RefundResult:
    """Refund all or part of a collected payment, once per idempotency key and requester."""
    info.principal.require_role(Role.STAFF, Role.PARTNER, action="refund payments")
    # Refund errors and results describe the payment, so refunding also
    # needs the right to read payments.
    info.principal.require_scope(Scope.PAYMENTS_WRITE)
    info.principal.require_scope(Scope.PAYMENTS_READ)
    _validate(request)

    refund, payment, created = await _reserve_refund(services, info, request)
    if not created:
        logger.info("refund retry returned refund %s", refund.id)
        return RefundResult(refund=refund, payment=payment)

    try:
        outcome = await services.processor.create_refund(
            RefundCharge(
                charge_reference=payment.processor_reference or "",
                amount_cents=refund.amount_cents,
                currency=payment.currency,
                idempotency_key=f"refund-{refund.id}",
            )
        )
        failure = None if outcome.succeeded else outcome.failure_reason
    except ProcessorError as error:
        logger.warning(
            "processor rejected refund %s of payment %s: %s", refund.id, payment.id, error
        )
        outcome = None
        failure = "The payment processor could not be reached; no money moved. Try again later."

    async with write_transaction(services.session_factory) as session:
        refund = await session.get_one(Refund, refund.id)
        payment = await session.get_one(Payment, payment.id, with_for_update=True)
        refund.completed_at = utc_now()
        if failure is not None or outcome is None:
            refund.status = "FAILED"
            refund.failure_reason = failure
            event = None
        else:
            refund.status = "SUCCEEDED"
            refund.processor_reference = outcome.reference
            payment.refunded_cents += refund.amount_cents
            await _take_back_cents(session, payment, refund)
            fully = payment.refunded_cents >= payment.amount_cents
            event = await transition_payment(
                session,
                payment,
                PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED,
                f"Refund of {format_cents(refund.amount_cents)} issued",
            )
            add_audit_event(
                session,
                info,
                AuditAction.REFUND_CREATED,
                patient_id=payment.patient_id,
                payment_id=payment.id,
            )

    if event is not None:
        await publish_events(services, [(event, payment.patient_id)])
        logger.info(
            "refund %s of payment %s by %s: %s cents",
            refund.id,
            payment.id,
            info.principal.actor,
            refund.amount_cents,
        )
    return RefundResult(refund=refund, payment=payment)
