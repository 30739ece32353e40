"""Seed an empty database with a small, realistic demo practice.

Every random choice comes from one ``random.Random`` with a fixed seed, so the
same ``today`` produces the same rows, apart from the password hash salts.
The static tables live in ``gateway.demo_data``.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import (
    AppointmentKind,
    AppointmentModality,
    AppointmentStatus,
    InvoiceStatus,
    LineCategory,
)
from db.models import (
    Appointment,
    Clinician,
    Invoice,
    InvoiceLine,
    Patient,
)
from gateway import demo_data as data
from gateway.demo_data import ClinicianSpec, Coverage, FeeSpec, PatientSpec, ServiceSpec
from gateway.demo_payments import add_patient_payments
from gateway.demo_support import (
    PRACTICE_ZONE,
    IdentifierSource,
    local_date,
    open_day_on_or_after,
    utc_at,
)
from resolvers.allocation import invoice_status_for
from resolvers.money import CURRENCY, format_cents
from resolvers.passwords import hash_password


@dataclass(frozen=True)
class DemoSummary:
    clinicians: int
    patients: int
    appointments: int
    invoices: int
    payments: int


@dataclass(frozen=True)
class _Visit:
    appointment: Appointment
    service: ServiceSpec


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
    ids = IdentifierSource(random.Random(data.RANDOM_SEED))  # noqa: S311

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
        await add_patient_payments(
            session, ids, spec, patient, invoices[patient.id], collected, today
        )

    for patient_invoices in invoices.values():
        for invoice in patient_invoices:
            invoice.status = invoice_status_for(invoice.total_cents, collected[invoice.id])
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
            created_at=utc_at(signed_up_on, rng.randint(12, 23), rng.randint(0, 59)),
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
    visit_on = open_day_on_or_after(today - timedelta(days=data.HISTORY_DAYS - rng.randint(0, 6)))
    while visit_on < today:
        visit_dates.append(visit_on)
        gap = timedelta(days=rng.choice(spec.visit_gaps_days))
        visit_on = open_day_on_or_after(visit_on + gap)
    past_count = len(visit_dates)

    visit_on = today
    for _ in range(rng.randint(3, 5)):
        visit_on = open_day_on_or_after(visit_on + timedelta(days=rng.randint(6, 8)))
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
    ids: IdentifierSource,
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
        issued_on = local_date(appointment.starts_at) + timedelta(days=1)
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
    service_on = local_date(visit.appointment.starts_at)
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
