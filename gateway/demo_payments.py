"""Demo payments: methods, succeeded and declined payments, allocations and events."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import FailureCode, PaymentMethodType, PaymentStatus
from db.models import Allocation, Invoice, Patient, Payment, PaymentEvent, PaymentMethod
from gateway import demo_data as data
from gateway.demo_data import MethodSpec, PatientSpec
from gateway.demo_support import IdentifierSource, open_day_on_or_after, utc_at
from gateway.processors.sandbox import PROCESSING_MESSAGES, SUCCESS_MESSAGES
from resolvers.money import CURRENCY


@dataclass(frozen=True)
class _Timeline:
    """The status events of one payment, in order, and when it should settle."""

    events: list[tuple[PaymentStatus, str, datetime]]
    expected_settlement_on: date


async def add_patient_payments(
    session: AsyncSession,
    ids: IdentifierSource,
    spec: PatientSpec,
    patient: Patient,
    invoices: list[Invoice],
    collected: dict[int, int],
    today: date,
) -> None:
    """Pay all but the newest invoices, then add the partial and declined payments."""
    methods = await _add_payment_methods(session, ids, patient, spec.methods, patient.created_at)
    paid_count = max(len(invoices) - spec.unpaid_invoice_count, 0)
    paid, unpaid = invoices[:paid_count], invoices[paid_count:]

    for group in _payment_groups(paid, ids.rng):
        paid_on = _payment_day(group[-1].issued_on, ids.rng.randint(1, 6), today)
        method = _choose_method(methods, paid_on, today, ids.rng)
        applied = [(invoice, invoice.total_cents) for invoice in group]
        paid_at = _payment_time(paid_on, ids.rng)
        await _add_payment(session, ids, patient, method, applied, paid_at, collected)

    if not unpaid:
        return
    oldest = unpaid[0]
    partial_cents = 0
    if spec.partial_payment:
        # Half of the invoice, rounded down to whole dollars.
        partial_cents = max(100, oldest.total_cents // 200 * 100)
        paid_on = _payment_day(oldest.issued_on, ids.rng.randint(2, 4), today)
        paid_at = _payment_time(paid_on, ids.rng)
        await _add_payment(
            session, ids, patient, methods[0], [(oldest, partial_cents)], paid_at, collected
        )

    if spec.declined_payment:
        # The patient tried a new card for the rest of the two oldest unpaid invoices.
        applied = [(oldest, oldest.total_cents - partial_cents)]
        applied += [(invoice, invoice.total_cents) for invoice in unpaid[1:2]]
        tried_on = _payment_day(applied[-1][0].issued_on, 2, today)
        tried_at = _payment_time(tried_on, ids.rng)
        [card] = await _add_payment_methods(session, ids, patient, (data.DECLINED_CARD,), tried_at)
        await _add_payment(session, ids, patient, card, applied, tried_at, collected, declined=True)


async def _add_payment_methods(
    session: AsyncSession,
    ids: IdentifierSource,
    patient: Patient,
    specs: tuple[MethodSpec, ...],
    created_at: datetime,
) -> list[PaymentMethod]:
    methods = []
    for spec in specs:
        is_card = spec.method_type != PaymentMethodType.ACH
        methods.append(
            PaymentMethod(
                patient_id=patient.id,
                method_type=spec.method_type,
                processor_token=ids.token(spec.token_prefix),
                brand=spec.brand,
                last4=spec.last4,
                funding=spec.funding,
                exp_month=data.CARD_EXPIRY_MONTH if is_card else None,
                exp_year=data.CARD_EXPIRY_YEAR if is_card else None,
                bank_name=spec.bank_name,
                created_at=created_at,
            )
        )
    session.add_all(methods)
    await session.flush()
    return methods


def _payment_groups(invoices: list[Invoice], rng: random.Random) -> list[list[Invoice]]:
    """Split invoices, oldest first, into runs of one to three paid together."""
    groups = []
    start = 0
    while start < len(invoices):
        size = rng.randint(1, 3)
        groups.append(invoices[start : start + size])
        start += size
    return groups


def _choose_method(
    methods: list[PaymentMethod], paid_on: date, today: date, rng: random.Random
) -> PaymentMethod:
    """Pick a saved method, falling back to the first card if ACH would still be pending."""
    method = rng.choice(methods)
    if method.method_type == PaymentMethodType.ACH and _ach_settles_on(paid_on) >= today:
        return methods[0]
    return method


async def _add_payment(
    session: AsyncSession,
    ids: IdentifierSource,
    patient: Patient,
    method: PaymentMethod,
    applied: list[tuple[Invoice, int]],
    created_at: datetime,
    collected: dict[int, int],
    *,
    declined: bool = False,
) -> None:
    """Add a payment with its allocations and events, counting succeeded cents in ``collected``."""
    if declined:
        timeline = _declined_timeline(created_at)
    else:
        timeline = _succeeded_timeline(method.method_type, created_at)
    finished_at = timeline.events[-1][2]
    key = ids.idempotency_key()
    confirmation = ids.confirmation_number()
    payment = Payment(
        patient_id=patient.id,
        payment_method_id=method.id,
        method_type=method.method_type,
        amount_cents=sum(cents for _, cents in applied),
        currency=CURRENCY,
        status=PaymentStatus.FAILED if declined else PaymentStatus.SUCCEEDED,
        confirmation_number=confirmation,
        # The first group of the confirmation code, e.g. "CEDAR GROVE HLTH 7K2Q".
        statement_descriptor=f"{data.DESCRIPTOR_PREFIX} {confirmation.split('-')[1]}",
        idempotency_key=key,
        request_fingerprint=hashlib.sha256(key.encode()).hexdigest(),
        # Same shape as the sandbox's own charges ("sbx_pi_<kind>_<outcome>_<hex>"),
        # so the sandbox can refund a demo payment.
        processor_reference=ids.token(_charge_prefix(method.processor_token), 24),
        failure_code=FailureCode.CARD_DECLINED if declined else None,
        failure_reason=data.DECLINE_REASON if declined else None,
        refunded_cents=0,
        created_at=created_at,
        updated_at=finished_at,
        settled_at=None if declined else finished_at,
        expected_settlement_on=timeline.expected_settlement_on,
    )
    session.add(payment)
    await session.flush()

    for invoice, cents in applied:
        allocation = Allocation(
            payment_id=payment.id,
            invoice_id=invoice.id,
            amount_cents=cents,
            created_at=created_at,
            released_at=finished_at if declined else None,
        )
        session.add(allocation)
        if not declined:
            collected[invoice.id] += cents

    for sequence, (status, message, occurred_at) in enumerate(timeline.events, start=1):
        session.add(
            PaymentEvent(
                payment_id=payment.id,
                sequence=sequence,
                status=status,
                message=message,
                occurred_at=occurred_at,
            )
        )


def _succeeded_timeline(method_type: PaymentMethodType, created_at: datetime) -> _Timeline:
    """Build the events of a payment that succeeds.

    Card payments succeed within seconds, but ACH debits settle three business days later.
    """
    created = (PaymentStatus.PENDING, "Payment created", created_at)
    sent_at = created_at + timedelta(seconds=2)
    if method_type == PaymentMethodType.ACH:
        settles_on = _ach_settles_on(created_at.date())
        return _Timeline(
            events=[
                created,
                (PaymentStatus.PROCESSING, PROCESSING_MESSAGES["ach"], sent_at),
                (PaymentStatus.SUCCEEDED, SUCCESS_MESSAGES["ach"], utc_at(settles_on, 14, 0)),
            ],
            expected_settlement_on=settles_on,
        )
    succeeded_at = sent_at + timedelta(seconds=3)
    return _Timeline(
        events=[
            created,
            (PaymentStatus.PROCESSING, PROCESSING_MESSAGES["card"], sent_at),
            (PaymentStatus.SUCCEEDED, SUCCESS_MESSAGES["card"], succeeded_at),
        ],
        expected_settlement_on=succeeded_at.date(),
    )


def _declined_timeline(created_at: datetime) -> _Timeline:
    """Build the events of a card payment that the issuer declines."""
    sent_at = created_at + timedelta(seconds=2)
    failed_at = sent_at + timedelta(seconds=2)
    return _Timeline(
        events=[
            (PaymentStatus.PENDING, "Payment created", created_at),
            (PaymentStatus.PROCESSING, PROCESSING_MESSAGES["card"], sent_at),
            (PaymentStatus.FAILED, data.DECLINE_REASON, failed_at),
        ],
        expected_settlement_on=created_at.date(),
    )


def _ach_settles_on(debited_on: date) -> date:
    settles_on = debited_on
    for _ in range(3):
        settles_on = open_day_on_or_after(settles_on + timedelta(days=1))
    return settles_on


def _payment_day(issued_on: date, delay_days: int, today: date) -> date:
    """Return the day ``delay_days`` after ``issued_on``, moved back before ``today``.

    It never moves before ``issued_on``, so a payment for an invoice issued
    today is made today.
    """
    return max(issued_on, min(issued_on + timedelta(days=delay_days), today - timedelta(days=1)))


def _payment_time(day: date, rng: random.Random) -> datetime:
    """Return a time on ``day`` between 13:00 and 23:59 UTC, about 8 AM to 7 PM in New York."""
    return utc_at(day, rng.randint(13, 23), rng.randint(0, 59), rng.randint(0, 59))


def _charge_prefix(method_token: str) -> str:
    kind_and_outcome = method_token.removeprefix("sbx_pm_").rsplit("_", 1)[0]
    return f"sbx_pi_{kind_and_outcome}_"
