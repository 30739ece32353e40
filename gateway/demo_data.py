"""Static tables for the demo practice: clinicians, patients, services and payment methods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db.enums import AppointmentKind, CardFunding, LineCategory, PaymentMethodType

RANDOM_SEED = 20261204

# Every demo account signs in with this published password.
DEMO_PASSWORD = "demo-password"  # noqa: S105
DEMO_EMAIL = "demo@example.com"

# Appointment times are chosen as local times at the practice, then stored in UTC.
PRACTICE_TIME_ZONE = "America/New_York"
LOCAL_START_HOURS = (9, 10, 11, 13, 14, 15, 16)

HISTORY_DAYS = 182
UPCOMING_DAYS = 42
# (month, day) of the holidays the practice closes for: New Year's Day,
# Independence Day and Christmas. Holidays on a moving date are not skipped.
FIXED_DATE_HOLIDAYS = frozenset({(1, 1), (7, 4), (12, 25)})

CONFIRMATION_PREFIX = "CGH"
DESCRIPTOR_PREFIX = "CEDAR GROVE HLTH"
# Crockford's base32 alphabet, which leaves out I, L, O and U.
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

CARD_EXPIRY_MONTH = 12
CARD_EXPIRY_YEAR = 2030
DECLINE_REASON = "Your card was declined. Use a different card or contact your card issuer."


@dataclass(frozen=True)
class ClinicianSpec:
    name: str
    credentials: str


THERAPIST_OKAFOR = ClinicianSpec("Maya Okafor", "PsyD")
THERAPIST_WHITFIELD = ClinicianSpec("Daniel Whitfield", "LCSW")
PRESCRIBER = ClinicianSpec("Priya Raman", "PMHNP-BC")
FAMILY_THERAPIST = ClinicianSpec("Elena Castillo", "LMFT")

CLINICIANS = (THERAPIST_OKAFOR, THERAPIST_WHITFIELD, PRESCRIBER, FAMILY_THERAPIST)


@dataclass(frozen=True)
class ServiceSpec:
    """A billable visit type with its CPT code and prices in cents."""

    kind: AppointmentKind
    cpt_code: str
    label: str
    minutes: int
    # The amount the patient's insurer allows for the visit.
    allowed_cents: int
    # The practice's rate for patients who pay without insurance.
    self_pay_cents: int


INTAKE = ServiceSpec(
    AppointmentKind.INTAKE, "90791", "Psychiatric diagnostic evaluation", 90, 18_000, 22_000
)
MEDICATION_MANAGEMENT = ServiceSpec(
    AppointmentKind.MEDICATION_MANAGEMENT, "99214", "Medication management", 30, 12_000, 14_000
)
FAMILY_THERAPY = ServiceSpec(
    AppointmentKind.FAMILY_THERAPY, "90847", "Family psychotherapy", 50, 12_500, 17_500
)
THERAPY_BY_MINUTES = {
    50: ServiceSpec(AppointmentKind.THERAPY, "90834", "Psychotherapy", 50, 11_500, 16_500),
    60: ServiceSpec(AppointmentKind.THERAPY, "90837", "Psychotherapy", 60, 14_500, 19_000),
}


@dataclass(frozen=True)
class FeeSpec:
    description: str
    category: LineCategory
    cents: int


NO_SHOW_FEE = FeeSpec("Missed appointment fee (no-show)", LineCategory.NO_SHOW_FEE, 10_000)
LATE_CANCELLATION_FEE = FeeSpec(
    "Late cancellation fee (less than 24 hours' notice)", LineCategory.LATE_CANCELLATION_FEE, 7_500
)


@dataclass(frozen=True)
class Coverage:
    """A patient's insurance terms, which set their share of each visit.

    A copay plan charges ``copay_cents`` per visit. Otherwise visits go to the
    deductible until ``deductible_remaining_cents`` is used up, and after that
    the patient pays ``coinsurance_percent`` of the allowed amount. A self-pay
    patient pays the practice's self-pay rate.
    """

    copay_cents: int = 0
    deductible_remaining_cents: int = 0
    coinsurance_percent: int = 0
    self_pay: bool = False


@dataclass(frozen=True)
class MethodSpec:
    """A sandbox payment method, whose rows get a random hex suffix after ``token_prefix``."""

    method_type: PaymentMethodType
    token_prefix: str
    brand: str | None
    last4: str
    funding: CardFunding | None
    bank_name: str | None


VISA_CREDIT = MethodSpec(
    PaymentMethodType.CREDIT_CARD, "sbx_pm_card_ok_", "Visa", "4242", CardFunding.CREDIT, None
)
VISA_DEBIT = MethodSpec(
    PaymentMethodType.DEBIT_CARD, "sbx_pm_card_ok_", "Visa", "5556", CardFunding.DEBIT, None
)
BANK_ACCOUNT = MethodSpec(
    PaymentMethodType.ACH, "sbx_pm_ach_ok_", None, "6789", None, "STRIPE TEST BANK"
)
DECLINED_CARD = MethodSpec(
    PaymentMethodType.CREDIT_CARD,
    "sbx_pm_card_CARD_DECLINED_",
    "Visa",
    "0002",
    CardFunding.CREDIT,
    None,
)


@dataclass(frozen=True)
class PatientSpec:
    name: str
    email: str
    therapist: ClinicianSpec
    session_minutes: int
    # Choices for the number of days between two past visits.
    visit_gaps_days: tuple[int, ...]
    coverage: Coverage
    # The first method must be a card, because it pays whenever an ACH debit
    # started that day would not settle before the seeding date.
    methods: tuple[MethodSpec, ...]
    # How many of the newest invoices are left unpaid.
    unpaid_invoice_count: int
    # Whether the oldest unpaid invoice got a partial payment.
    partial_payment: bool
    # Whether the patient tried to pay with a card that was declined.
    declined_payment: bool = False
    sees_prescriber: bool = False
    has_family_sessions: bool = False


PATIENTS = (
    PatientSpec(
        name="Jordan Rivera",
        email=DEMO_EMAIL,
        therapist=THERAPIST_WHITFIELD,
        session_minutes=60,
        visit_gaps_days=(7, 7, 14),
        coverage=Coverage(deductible_remaining_cents=400_000, coinsurance_percent=20),
        methods=(VISA_CREDIT, BANK_ACCOUNT),
        unpaid_invoice_count=4,
        partial_payment=True,
        declined_payment=True,
        sees_prescriber=True,
    ),
    PatientSpec(
        name="Avery Thompson",
        email="avery.thompson@example.com",
        therapist=THERAPIST_OKAFOR,
        session_minutes=50,
        visit_gaps_days=(7, 14),
        coverage=Coverage(copay_cents=3_000),
        methods=(VISA_DEBIT,),
        unpaid_invoice_count=2,
        partial_payment=False,
    ),
    PatientSpec(
        name="Marcus Chen",
        email="marcus.chen@example.com",
        therapist=FAMILY_THERAPIST,
        session_minutes=50,
        visit_gaps_days=(14,),
        coverage=Coverage(self_pay=True),
        methods=(VISA_CREDIT,),
        unpaid_invoice_count=1,
        partial_payment=False,
        has_family_sessions=True,
    ),
    PatientSpec(
        name="Sofia Delgado",
        email="sofia.delgado@example.com",
        therapist=THERAPIST_OKAFOR,
        session_minutes=60,
        visit_gaps_days=(7, 14),
        coverage=Coverage(coinsurance_percent=20),
        methods=(VISA_CREDIT, BANK_ACCOUNT),
        unpaid_invoice_count=3,
        partial_payment=True,
        sees_prescriber=True,
    ),
    PatientSpec(
        name="Tyler Brooks",
        email="tyler.brooks@example.com",
        therapist=THERAPIST_WHITFIELD,
        session_minutes=50,
        visit_gaps_days=(7, 14, 14),
        coverage=Coverage(copay_cents=2_500),
        methods=(VISA_CREDIT, VISA_DEBIT),
        unpaid_invoice_count=1,
        partial_payment=False,
    ),
    PatientSpec(
        name="Hannah Kowalski",
        email="hannah.kowalski@example.com",
        therapist=FAMILY_THERAPIST,
        session_minutes=50,
        visit_gaps_days=(7, 14),
        coverage=Coverage(deductible_remaining_cents=60_000, coinsurance_percent=20),
        methods=(VISA_DEBIT, BANK_ACCOUNT),
        unpaid_invoice_count=2,
        partial_payment=False,
        sees_prescriber=True,
        has_family_sessions=True,
    ),
)


# A billing clerk who may also read the audit log; seed-demo prints this login.
DEMO_STAFF: dict[str, Any] = {
    "name": "Morgan Ellis",
    "email": "billing@example.com",
    "password": "staff-demo-password",
    "is_auditor": True,
}
