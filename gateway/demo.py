"""Seed an empty database with a small, realistic demo practice.

Every random choice comes from one ``random.Random`` with a fixed seed, so the
same ``today`` produces the same rows, apart from the password hash salts.
The static tables live in ``gateway.demo_data``.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import (
    AppointmentKind,
    AppointmentModality,
    AppointmentStatus,
    FailureCode,
    InvoiceStatus,
    LineCategory,
    PaymentMethodType,
    PaymentStatus,
)
from db.models import (
    Allocation,
    Appointment,
    Clinician,
    Invoice,
    InvoiceLine,
    Patient,
    Payment,
    PaymentEvent,
    PaymentMethod,
)
from gateway import demo_data as data
from gateway.demo_data import ClinicianSpec, Coverage, FeeSpec, MethodSpec, PatientSpec, ServiceSpec
from resolvers.money import CURRENCY, format_cents
from resolvers.passwords import hash_password

PRACTICE_ZONE = ZoneInfo(data.PRACTICE_TIME_ZONE)


@dataclass(frozen=True)
class DemoSummary:
    clinicians: int
    patients: int
    appointments: int
    invoices: int
    payments: int


@dataclass
class _IdentifierSource:
    """Deterministic tokens and numbers for demo rows, unique within one seeding run."""

    rng: random.Random
    invoice_count: int = 0
    payment_count: int = 0
    confirmation_numbers: set[str] = field(default_factory=set)

    def token(self, prefix: str, hex_digits: int = 16) -> str:
        return f"{prefix}{self.rng.getrandbits(hex_digits * 4):0{hex_digits}x}"

    def invoice_number(self, issued_on: date) -> str:
        self.invoice_count += 1
        return f"INV-{issued_on.year}-{self.invoice_count:06d}"

    def idempotency_key(self) -> str:
        self.payment_count += 1
        return f"demo-{self.payment_count}"

    def confirmation_number(self) -> str:
        while True:
            code = "".join(self.rng.choice(data.CROCKFORD_ALPHABET) for _ in range(8))
            number = f"{data.CONFIRMATION_PREFIX}-{code[:4]}-{code[4:]}"
            if number not in self.confirmation_numbers:
                self.confirmation_numbers.add(number)
                return number


@dataclass(frozen=True)
class _Visit:
    appointment: Appointment
    service: ServiceSpec


@dataclass(frozen=True)
class _Timeline:
    """The status events of one payment, in order, and when it should settle."""

    events: list[tuple[PaymentStatus, str, datetime]]
    expected_settlement_on: date


async def database_is_empty(session: AsyncSession) -> bool:
    """Return True when the database has no patients yet."""
    first_patient = await session.scalar(select(Patient.id).limit(1))
    return first_patient is None


async def seed_demo(session: AsyncSession, *, today: date | None = None) -> DemoSummary:
    """Write the demo practice and flush it, leaving the commit to the caller.

    History covers about six months before ``today`` (the current UTC date by
    default) and the upcoming schedule about six weeks after it. Raises
    ValueError if the database already has patients.
    """
    if today is None:
        today = datetime.now(UTC).date()
    if not await database_is_empty(session):
        raise ValueError(
            "cannot seed demo data because the database already has patients. "
            "Seed an empty database instead."
        )
    # Demo data needs reproducibility, not unpredictability.
    ids = _IdentifierSource(random.Random(data.RANDOM_SEED))  # noqa: S311

    clinicians = await _add_clinicians(session)
    patients = await _add_patients(session, ids.rng, today)

    visits: dict[int, list[_Visit]] = {}
    for spec, patient in patients:
        visits[patient.id] = _build_schedule(spec, patient, clinicians, ids.rng, today)
        session.add_all(visit.appointment for visit in visits[patient.id])
    await session.flush()

    invoices = await _add_invoices(session, ids, patients, visits)

    collected: dict[int, int] = defaultdict(int)
    for spec, patient in patients:
        await _add_patient_payments(
            session, ids, spec, patient, invoices[patient.id], collected, today
        )

    for patient_invoices in invoices.values():
        for invoice in patient_invoices:
            invoice.status = _invoice_status(invoice.total_cents, collected[invoice.id])
    await session.flush()

    return DemoSummary(
        clinicians=len(clinicians),
        patients=len(patients),
        appointments=sum(len(rows) for rows in visits.values()),
        invoices=sum(len(rows) for rows in invoices.values()),
        payments=ids.payment_count,
    )


async def _add_clinicians(session: AsyncSession) -> dict[ClinicianSpec, Clinician]:
    clinicians = {
        spec: Clinician(name=spec.name, credentials=spec.credentials) for spec in data.CLINICIANS
    }
    session.add_all(clinicians.values())
    await session.flush()
    return clinicians


async def _add_patients(
    session: AsyncSession, rng: random.Random, today: date
) -> list[tuple[PatientSpec, Patient]]:
    patients = []
    for spec in data.PATIENTS:
        # Argon2 hashing takes tens of milliseconds, so it runs off the event loop.
        password_hash = await asyncio.to_thread(hash_password, data.DEMO_PASSWORD)
        signed_up_on = today - timedelta(days=data.HISTORY_DAYS + rng.randint(3, 10))
        patient = Patient(
            name=spec.name,
            email=spec.email.lower(),
            password_hash=password_hash,
            created_at=_utc_at(signed_up_on, rng.randint(12, 23), rng.randint(0, 59)),
        )
        patients.append((spec, patient))
    session.add_all(patient for _, patient in patients)
    await session.flush()
    return patients


def _build_schedule(
    spec: PatientSpec,
    patient: Patient,
    clinicians: dict[ClinicianSpec, Clinician],
    rng: random.Random,
    today: date,
) -> list[_Visit]:
    """Build weekday visits every one or two weeks before ``today``, then 3 to 5 upcoming."""
    visit_dates = []
    visit_on = _open_day_on_or_after(today - timedelta(days=data.HISTORY_DAYS - rng.randint(0, 6)))
    while visit_on < today:
        visit_dates.append(visit_on)
        gap = timedelta(days=rng.choice(spec.visit_gaps_days))
        visit_on = _open_day_on_or_after(visit_on + gap)
    past_count = len(visit_dates)

    visit_on = today
    for _ in range(rng.randint(3, 5)):
        visit_on = _open_day_on_or_after(visit_on + timedelta(days=rng.randint(6, 8)))
        if visit_on > today + timedelta(days=data.UPCOMING_DAYS):
            break
        visit_dates.append(visit_on)

    usual_hour = rng.choice(data.LOCAL_START_HOURS)
    visits = []
    for number, visit_on in enumerate(visit_dates):
        service, clinician = _choose_service(spec, number, rng)
        hour = rng.choice(data.LOCAL_START_HOURS)
        if service.kind == AppointmentKind.THERAPY:
            hour = usual_hour
        starts_at = datetime.combine(visit_on, time(hour), tzinfo=PRACTICE_ZONE).astimezone(UTC)
        if number >= past_count:
            status = AppointmentStatus.SCHEDULED
        elif number == 0:
            status = AppointmentStatus.COMPLETED
        else:
            status = _past_status(rng)
        in_person = rng.random() < 0.25
        appointment = Appointment(
            patient_id=patient.id,
            clinician_id=clinicians[clinician].id,
            kind=service.kind,
            modality=AppointmentModality.IN_PERSON if in_person else AppointmentModality.VIDEO,
            status=status,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=service.minutes),
        )
        visits.append(_Visit(appointment, service))
    return visits


def _choose_service(
    spec: PatientSpec, visit_number: int, rng: random.Random
) -> tuple[ServiceSpec, ClinicianSpec]:
    if visit_number == 0:
        return data.INTAKE, spec.therapist
    if spec.sees_prescriber and visit_number % 4 == 1:
        return data.MEDICATION_MANAGEMENT, data.PRESCRIBER
    if spec.has_family_sessions and rng.random() < 0.1:
        return data.FAMILY_THERAPY, data.FAMILY_THERAPIST
    return data.THERAPY_BY_MINUTES[spec.session_minutes], spec.therapist


def _past_status(rng: random.Random) -> AppointmentStatus:
    draw = rng.random()
    if draw < 0.06:
        return AppointmentStatus.NO_SHOW
    if draw < 0.14:
        return AppointmentStatus.CANCELED
    return AppointmentStatus.COMPLETED


async def _add_invoices(
    session: AsyncSession,
    ids: _IdentifierSource,
    patients: list[tuple[PatientSpec, Patient]],
    visits: dict[int, list[_Visit]],
) -> dict[int, list[Invoice]]:
    """Invoice each billable past visit; numbers follow the order of the visits."""
    drafts: list[tuple[Appointment, list[InvoiceLine]]] = []
    for spec, patient in patients:
        deductible_left = spec.coverage.deductible_remaining_cents
        for visit in visits[patient.id]:
            lines = _lines_for_visit(visit, spec.coverage, deductible_left, ids.rng)
            deductible_left -= sum(
                line.amount_cents for line in lines if line.category == LineCategory.DEDUCTIBLE
            )
            if lines:
                drafts.append((visit.appointment, lines))
    drafts.sort(key=lambda draft: (draft[0].starts_at, draft[0].patient_id))

    invoices: dict[int, list[Invoice]] = {patient.id: [] for _, patient in patients}
    issued: list[tuple[Invoice, list[InvoiceLine]]] = []
    for appointment, lines in drafts:
        issued_on = _local_date(appointment.starts_at) + timedelta(days=1)
        invoice = Invoice(
            patient_id=appointment.patient_id,
            appointment_id=appointment.id,
            number=ids.invoice_number(issued_on),
            issued_on=issued_on,
            due_on=issued_on + timedelta(days=30),
            status=InvoiceStatus.OPEN,
            total_cents=sum(line.amount_cents for line in lines),
            currency=CURRENCY,
        )
        invoices[appointment.patient_id].append(invoice)
        issued.append((invoice, lines))
    session.add_all(invoice for invoice, _ in issued)
    await session.flush()

    for invoice, lines in issued:
        for line in lines:
            line.invoice_id = invoice.id
        session.add_all(lines)
    await session.flush()
    return invoices


def _lines_for_visit(
    visit: _Visit, coverage: Coverage, deductible_left: int, rng: random.Random
) -> list[InvoiceLine]:
    """Return the invoice lines for a past visit, or an empty list when it is not billed."""
    service_on = _local_date(visit.appointment.starts_at)
    status = visit.appointment.status
    if status == AppointmentStatus.NO_SHOW:
        return [_fee_line(data.NO_SHOW_FEE, service_on)]
    if status == AppointmentStatus.CANCELED:
        # Cancellations with 24 hours' notice are free, and about half came later than that.
        late = rng.random() < 0.5
        return [_fee_line(data.LATE_CANCELLATION_FEE, service_on)] if late else []
    if status != AppointmentStatus.COMPLETED:
        return []
    return _care_lines(visit.service, coverage, deductible_left, service_on)


def _care_lines(
    service: ServiceSpec, coverage: Coverage, deductible_left: int, service_on: date
) -> list[InvoiceLine]:
    """Return the patient's share of one completed visit under their coverage."""
    visit_name = f"{service.label}, {service.minutes} min ({service.cpt_code})"

    def line(label: str, category: LineCategory, cents: int) -> InvoiceLine:
        return _line(f"{visit_name} - {label}", category, cents, service_on)

    if coverage.self_pay:
        return [line("self-pay rate", LineCategory.SELF_PAY, service.self_pay_cents)]
    if coverage.copay_cents:
        return [line("copay", LineCategory.COPAY, coverage.copay_cents)]

    lines = []
    deductible_cents = min(service.allowed_cents, deductible_left)
    if deductible_cents:
        lines.append(line("applied to deductible", LineCategory.DEDUCTIBLE, deductible_cents))
    remainder = service.allowed_cents - deductible_cents
    percent = coverage.coinsurance_percent
    if remainder and percent:
        # Rounded half up to the cent.
        coinsurance_cents = (remainder * percent + 50) // 100
        label = f"{percent}% coinsurance of {format_cents(remainder)} allowed"
        lines.append(line(label, LineCategory.COINSURANCE, coinsurance_cents))
    return lines


def _fee_line(fee: FeeSpec, service_on: date) -> InvoiceLine:
    return _line(fee.description, fee.category, fee.cents, service_on)


def _line(description: str, category: LineCategory, cents: int, service_on: date) -> InvoiceLine:
    return InvoiceLine(
        description=description, category=category, service_date=service_on, amount_cents=cents
    )


async def _add_patient_payments(
    session: AsyncSession,
    ids: _IdentifierSource,
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
    ids: _IdentifierSource,
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
    ids: _IdentifierSource,
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
        processor_reference=ids.token("sbx_pi_", 24),
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
                (PaymentStatus.PROCESSING, "ACH debit submitted to the bank", sent_at),
                (PaymentStatus.SUCCEEDED, "Payment succeeded", _utc_at(settles_on, 14, 0)),
            ],
            expected_settlement_on=settles_on,
        )
    succeeded_at = sent_at + timedelta(seconds=3)
    return _Timeline(
        events=[
            created,
            (PaymentStatus.PROCESSING, "Sent to the card network", sent_at),
            (PaymentStatus.SUCCEEDED, "Payment succeeded", succeeded_at),
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
            (PaymentStatus.PROCESSING, "Sent to the card network", sent_at),
            (PaymentStatus.FAILED, "Card declined by the issuer", failed_at),
        ],
        expected_settlement_on=created_at.date(),
    )


def _invoice_status(total_cents: int, collected_cents: int) -> InvoiceStatus:
    if collected_cents == 0:
        return InvoiceStatus.OPEN
    if collected_cents < total_cents:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.PAID


def _ach_settles_on(debited_on: date) -> date:
    settles_on = debited_on
    for _ in range(3):
        settles_on = _open_day_on_or_after(settles_on + timedelta(days=1))
    return settles_on


def _open_day_on_or_after(day: date) -> date:
    """Return the first weekday from ``day`` on that is not a fixed-date holiday."""
    while day.weekday() >= 5 or (day.month, day.day) in data.FIXED_DATE_HOLIDAYS:
        day += timedelta(days=1)
    return day


def _local_date(moment: datetime) -> date:
    return moment.astimezone(PRACTICE_ZONE).date()


def _payment_day(issued_on: date, delay_days: int, today: date) -> date:
    """Return the day ``delay_days`` after ``issued_on``, moved back before ``today``.

    It never moves before ``issued_on``, so a payment for an invoice issued
    today is made today.
    """
    return max(issued_on, min(issued_on + timedelta(days=delay_days), today - timedelta(days=1)))


def _payment_time(day: date, rng: random.Random) -> datetime:
    """Return a time on ``day`` between 13:00 and 23:59 UTC, about 8 AM to 7 PM in New York."""
    return _utc_at(day, rng.randint(13, 23), rng.randint(0, 59), rng.randint(0, 59))


def _utc_at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC)
