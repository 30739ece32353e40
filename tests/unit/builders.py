"""Small builders for rows the unit suites need."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import CardFunding, InvoiceStatus, LineCategory, PaymentMethodType
from db.models import Invoice, InvoiceLine, Patient, PaymentMethod
from gateway.attempt_counter import InMemoryAttemptCounter
from gateway.connection_watch import ConnectionWatch
from gateway.events.memory import InProcessEventBus
from gateway.processors.sandbox import SandboxProcessor
from resolvers.ports import ChargeUpdate
from resolvers.services import BillingServices
from resolvers.sessions import SessionPolicy
from resolvers.sign_in_limits import SignInGuard, SignInLimits

_numbers = count(1)


async def add_patient(session: AsyncSession, name: str = "Casey Morgan") -> Patient:
    number = next(_numbers)
    patient = Patient(name=name, email=f"patient{number}@example.com", password_hash="x")
    session.add(patient)
    await session.flush()
    return patient


async def add_invoice(
    session: AsyncSession, patient_id: int, cents: int, due_on: date, lines: int = 1
) -> Invoice:
    number = next(_numbers)
    invoice = Invoice(
        patient_id=patient_id,
        number=f"INV-TEST-{number:06d}",
        issued_on=due_on - timedelta(days=30),
        due_on=due_on,
        status=InvoiceStatus.OPEN,
        total_cents=cents,
    )
    session.add(invoice)
    await session.flush()
    shares = [cents // lines] * lines
    shares[0] += cents - sum(shares)
    for share in shares:
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                description="Psychotherapy, 53 minutes - copay",
                category=LineCategory.COPAY,
                service_date=invoice.issued_on,
                amount_cents=share,
            )
        )
    await session.flush()
    return invoice


async def add_card(session: AsyncSession, patient_id: int, outcome: str = "ok") -> PaymentMethod:
    method = PaymentMethod(
        patient_id=patient_id,
        method_type=PaymentMethodType.CREDIT_CARD,
        processor_token=f"sbx_pm_card_{outcome}_{next(_numbers):016x}",
        brand="Visa",
        last4="4242",
        funding=CardFunding.CREDIT,
        exp_month=12,
        exp_year=2030,
    )
    session.add(method)
    await session.flush()
    return method


class RecordedUpdates(list[ChargeUpdate]):
    """Collects the sandbox's later reports instead of applying them, so tests decide when."""

    async def __call__(self, update: ChargeUpdate) -> None:
        self.append(update)


def sandbox_services(
    factory: async_sessionmaker[AsyncSession], updates: RecordedUpdates
) -> BillingServices:
    processor = SandboxProcessor(updates, card_delay=timedelta(0), ach_delay=timedelta(0))
    return BillingServices(
        session_factory=factory,
        processor=processor,
        events=InProcessEventBus(),
        descriptor_prefix="CEDAR GROVE HLTH",
        confirmation_prefix="CGH",
        session_policy=SessionPolicy(),
        session_events=ConnectionWatch(factory, interval_seconds=0),
        sign_in_guard=SignInGuard(InMemoryAttemptCounter(), SignInLimits()),
    )
