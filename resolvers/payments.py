"""Paying a bill: idempotent creation, allocation, and the processor's reports.

A payment is written as PENDING with its allocations in one transaction,
then sent to the processor outside it, so a slow processor never holds the
database's write lock. Every later status arrives through
``apply_charge_update``, from the create call or from the processor's
callback, and is stored with its event before it is published.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utc_now
from db.engine import write_transaction
from db.enums import FailureCode, PaymentStatus
from db.models import Patient, Payment, PaymentEvent, PaymentMethod
from resolvers.allocation import (
    OutstandingInvoice,
    load_outstanding_invoices,
    plan_allocation,
    store_allocations,
)
from resolvers.audit import AuditAction, RequestInfo, add_audit_event
from resolvers.errors import (
    AmountExceedsBalanceError,
    IdempotencyKeyReusedError,
    InvalidAmountError,
    InvalidInputError,
    NotFoundError,
    ProcessorError,
)
from resolvers.money import CURRENCY, format_cents
from resolvers.payment_states import OUTCOME_STATUSES, transition_payment
from resolvers.ports import ChargeRequest, ChargeUpdate
from resolvers.services import BillingServices, publish_events

logger = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY_LENGTH = 255
# Crockford's base32 alphabet: no I, L, O or U, so a code read aloud over the
# phone cannot be mistaken.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class PayBillRequest:
    idempotency_key: str
    payment_method_id: int
    amount_cents: int | None = None
    invoice_ids: tuple[int, ...] | None = None

    def fingerprint(self) -> str:
        body = json.dumps(
            [self.payment_method_id, self.amount_cents, self.invoice_ids], separators=(",", ":")
        )
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class PayBillResult:
    payment: Payment
    created: bool


def new_confirmation_number(prefix: str) -> str:
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{prefix}-{code[:4]}-{code[4:]}"


def statement_descriptor(prefix: str, confirmation_number: str) -> str:
    """Build the text a bank statement shows (at most 22 characters).

    It ends with the first group of the confirmation number, so a patient can
    match the statement line to the payment.
    """
    suffix = confirmation_number.rsplit("-", 2)[-2]
    return f"{prefix[: 22 - len(suffix) - 1]} {suffix}"


def _validate_request(request: PayBillRequest) -> None:
    key = request.idempotency_key
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidInputError(
            f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters; "
            "send a new UUID for each payment and reuse it only to retry that payment.",
            field="idempotencyKey",
        )
    if request.amount_cents is not None and request.amount_cents <= 0:
        raise InvalidAmountError(
            f"amountCents must be a positive number of cents, got {request.amount_cents}.",
            field="amountCents",
        )
    if request.invoice_ids is not None and not request.invoice_ids:
        raise InvalidInputError(
            "invoiceIds is empty; omit it to pay open invoices oldest first.", field="invoiceIds"
        )


async def _lock_patient(session: AsyncSession, patient_id: int) -> None:
    # On PostgreSQL this row lock serialises payments per patient. SQLite
    # drops FOR UPDATE, but there the write transaction already holds the
    # database lock.
    await session.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())


async def _find_by_key(session: AsyncSession, patient_id: int, key: str) -> Payment | None:
    return await session.scalar(
        select(Payment).where(Payment.patient_id == patient_id, Payment.idempotency_key == key)
    )


async def _create_pending_payment(
    session: AsyncSession, services: BillingServices, patient_id: int, request: PayBillRequest
) -> tuple[Payment, PaymentEvent]:
    method = await session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.id == request.payment_method_id,
            PaymentMethod.patient_id == patient_id,
            PaymentMethod.removed_at.is_(None),
        )
    )
    if method is None:
        raise NotFoundError(
            "Payment method not found; pick one from paymentMethods or add one "
            "with addPaymentMethod.",
            field="paymentMethodId",
        )

    open_invoices = await load_outstanding_invoices(session, patient_id)
    balance = sum(item.due_cents for item in open_invoices)
    if request.invoice_ids is None:
        chosen = open_invoices
    else:
        chosen = await _load_chosen_invoices(session, patient_id, request.invoice_ids)

    amount = request.amount_cents
    if amount is None:
        amount = sum(item.due_cents for item in chosen)
    if balance == 0 or amount == 0:
        raise AmountExceedsBalanceError(
            f"Your balance is {format_cents(balance)}, so there is nothing to pay.",
            field="amountCents",
        )
    if amount > balance:
        raise AmountExceedsBalanceError(
            f"{format_cents(amount)} is more than your balance of {format_cents(balance)}; "
            f"pay {format_cents(balance)} or less.",
            field="amountCents",
        )
    plan = plan_allocation(amount, _then_oldest_first(chosen, open_invoices))

    now = utc_now()
    confirmation = new_confirmation_number(services.confirmation_prefix)
    payment = Payment(
        patient_id=patient_id,
        payment_method_id=method.id,
        method_type=method.method_type,
        amount_cents=amount,
        currency=CURRENCY,
        status=PaymentStatus.PENDING,
        confirmation_number=confirmation,
        statement_descriptor=statement_descriptor(services.descriptor_prefix, confirmation),
        idempotency_key=request.idempotency_key,
        request_fingerprint=request.fingerprint(),
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    await session.flush()
    store_allocations(session, payment, plan)

    event = PaymentEvent(
        payment_id=payment.id,
        sequence=1,
        status=PaymentStatus.PENDING,
        message=f"Payment of {format_cents(amount)} created",
        occurred_at=now,
    )
    session.add(event)
    await session.flush()
    return payment, event


def _then_oldest_first(
    chosen: list[OutstandingInvoice], open_invoices: list[OutstandingInvoice]
) -> list[OutstandingInvoice]:
    """Order the chosen invoices first, then the patient's other open ones oldest due first.

    Money beyond the chosen invoices goes on to what else is owed rather than
    sitting as credit beside an unpaid bill. Only money beyond every open
    invoice, which the balance check rules out for new payments, is credit.
    """
    chosen_ids = {item.invoice.id for item in chosen}
    return chosen + [item for item in open_invoices if item.invoice.id not in chosen_ids]


async def _load_chosen_invoices(
    session: AsyncSession, patient_id: int, invoice_ids: tuple[int, ...]
) -> list[OutstandingInvoice]:
    found = {
        item.invoice.id: item
        for item in await load_outstanding_invoices(session, patient_id, invoice_ids)
    }
    chosen = []
    for invoice_id in dict.fromkeys(invoice_ids):
        item = found.get(invoice_id)
        if item is None:
            raise NotFoundError(
                "An invoice in invoiceIds was not found; pick invoices from your invoices list.",
                field="invoiceIds",
            )
        if item.due_cents == 0:
            raise AmountExceedsBalanceError(
                f"Invoice {item.invoice.number} has nothing left to pay; "
                "remove it from invoiceIds.",
                field="invoiceIds",
            )
        chosen.append(item)
    return chosen


async def pay_bill(
    services: BillingServices,
    patient_id: int,
    request: PayBillRequest,
    audit: RequestInfo | None = None,
) -> PayBillResult:
    """Create a payment for a patient and submit it to the processor, once per idempotency key."""
    _validate_request(request)

    async with write_transaction(services.session_factory) as session:
        await _lock_patient(session, patient_id)
        existing = await _find_by_key(session, patient_id, request.idempotency_key)
        if existing is not None:
            if existing.request_fingerprint != request.fingerprint():
                raise IdempotencyKeyReusedError(
                    "This idempotencyKey was already used for a different payment; "
                    "send a new key for a new payment.",
                    field="idempotencyKey",
                )
            logger.info("pay-bill retry returned payment %s", existing.id)
            return PayBillResult(payment=existing, created=False)
        payment, event = await _create_pending_payment(session, services, patient_id, request)
        if audit is not None:
            add_audit_event(
                session,
                audit,
                AuditAction.PAYMENT_CREATED,
                patient_id=patient_id,
                payment_id=payment.id,
            )

    logger.info("payment %s created for patient %s", payment.id, patient_id)
    await publish_events(services, [(event, patient_id)])
    payment = await submit_payment(services, payment)
    return PayBillResult(payment=payment, created=True)


async def submit_payment(services: BillingServices, payment: Payment) -> Payment:
    """Send a PENDING payment to the processor and record its first report."""
    async with services.session_factory() as session:
        method = await session.get_one(PaymentMethod, payment.payment_method_id)
    request = ChargeRequest(
        payment_id=payment.id,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        method_token=method.processor_token,
        method_type=payment.method_type,
        statement_descriptor=payment.statement_descriptor,
        idempotency_key=f"payment-{payment.id}",
    )

    try:
        update = await services.processor.create_charge(request)
    except ProcessorError as error:
        logger.warning("processor rejected payment %s: %s", payment.id, error)
        update = ChargeUpdate(
            reference="",
            payment_id=payment.id,
            status=PaymentStatus.FAILED,
            message="Payment processor could not be reached",
            failure_code=FailureCode.PROCESSOR_ERROR,
            failure_reason=(
                "We could not reach our payment processor, and no money was taken. "
                "Try again in a few minutes."
            ),
        )

    return await apply_charge_update(services, update, payment_id=payment.id)


async def apply_charge_update(
    services: BillingServices, update: ChargeUpdate, *, payment_id: int | None = None
) -> Payment:
    """Store a processor's report on a charge and publish the resulting event.

    The payment is found by ``payment_id`` when given, else by the processor
    reference. A report that would not move the payment forward changes nothing.
    """
    target_id = payment_id or update.payment_id
    async with write_transaction(services.session_factory) as session:
        if target_id is not None:
            payment = await session.get(Payment, target_id, with_for_update=True)
        else:
            payment = await session.scalar(
                select(Payment)
                .where(Payment.processor_reference == update.reference)
                .with_for_update()
            )
        if payment is None:
            raise NotFoundError(f"no payment for processor reference {update.reference!r}")

        if update.reference and payment.processor_reference is None:
            payment.processor_reference = update.reference
        if update.expected_settlement_on is not None:
            payment.expected_settlement_on = update.expected_settlement_on

        events: list[PaymentEvent | None] = []
        if (
            update.reference
            and payment.status is PaymentStatus.PENDING
            and update.status in OUTCOME_STATUSES
        ):
            # The outcome overtook the processor's first response (a webhook can
            # beat the API response). The charge did reach the processor, so
            # its PROCESSING step is recorded before the outcome.
            events.append(
                await transition_payment(
                    session, payment, PaymentStatus.PROCESSING, "Sent to the payment processor"
                )
            )
        events.append(
            await transition_payment(
                session,
                payment,
                update.status,
                update.message,
                failure_code=update.failure_code,
                failure_reason=update.failure_reason,
            )
        )

    stored = [(event, payment.patient_id) for event in events if event is not None]
    await publish_events(services, stored)
    return payment


async def recover_in_flight_payments(services: BillingServices) -> int:
    """Resubmit PENDING payments and re-watch PROCESSING ones, e.g. after a restart.

    Returns how many payments were picked up. Resubmitting is safe because the
    processor receives the same idempotency key for the same payment.
    """
    async with services.session_factory() as session:
        rows = (
            await session.scalars(
                select(Payment).where(
                    Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.PROCESSING])
                )
            )
        ).all()

    for payment in rows:
        if payment.status is PaymentStatus.PENDING or payment.processor_reference is None:
            logger.info("resubmitting pending payment %s", payment.id)
            await submit_payment(services, payment)
        else:
            logger.info("watching processing payment %s", payment.id)
            await services.processor.watch_charge(payment.processor_reference)
    return len(rows)
