"""Patients with invoices, their payment methods and payments, made for one test each.

A patient signs up through the API like any client. The gateway has no API
for issuing invoices, so those (and an appointment with its clinician) are
inserted straight into the server's SQLite file with the project's models.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from db.engine import create_engine, create_session_factory
from db.enums import (
    AppointmentKind,
    AppointmentModality,
    AppointmentStatus,
    InvoiceStatus,
    LineCategory,
)
from db.models import Appointment, Clinician, Invoice, InvoiceLine
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.operations import (
    ACCOUNT_SUMMARY,
    ADD_PAYMENT_METHOD,
    PAY_BILL,
    PAYMENT,
    SIGN_UP,
)

# Stripe's published test values, which the sandbox processor accepts.
VISA_CREDIT = "4242424242424242"
VISA_DEBIT = "4000056655665556"
VISA_DECLINED = "4000000000000002"
VISA_INSUFFICIENT_FUNDS = "4000000000009995"
TEST_ROUTING_NUMBER = "110000000"
ACH_SETTLES = "000123456789"
ACH_ACCOUNT_CLOSED = "000111111116"
TEST_BANK_NAME = "STRIPE TEST BANK"

# A payment's subscription ends at one of these, and polling for an outcome stops there.
OUTCOME_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})

POLL_INTERVAL_SECONDS = 0.05
DEFAULT_DEADLINE_SECONDS = 10.0

T = TypeVar("T")


@dataclass(frozen=True)
class LineSpec:
    description: str
    category: LineCategory
    cents: int


@dataclass(frozen=True)
class InvoiceSpec:
    days_until_due: int
    lines: tuple[LineSpec, ...]

    @property
    def total_cents(self) -> int:
        return sum(line.cents for line in self.lines)


# Three open invoices of $120.00, $45.00 and $30.00, oldest due date first.
INVOICE_SPECS = (
    InvoiceSpec(
        -30,
        (
            LineSpec("Psychotherapy, 60 minutes", LineCategory.COINSURANCE, 9_000),
            LineSpec("Psychotherapy, 60 minutes", LineCategory.COPAY, 3_000),
        ),
    ),
    InvoiceSpec(-10, (LineSpec("Psychotherapy, 45 minutes", LineCategory.COPAY, 4_500),)),
    InvoiceSpec(
        20,
        (
            LineSpec("Psychotherapy, 30 minutes", LineCategory.COPAY, 2_500),
            LineSpec("Late cancellation fee", LineCategory.LATE_CANCELLATION_FEE, 500),
        ),
    ),
)


@dataclass(frozen=True)
class SeededInvoice:
    global_id: str
    db_id: int
    number: str
    total_cents: int
    due_on: date


@dataclass(frozen=True)
class PatientAccount:
    email: str
    password: str
    token: str
    global_id: str
    db_id: int
    # Oldest due date first, the order payBill applies money in.
    invoices: tuple[SeededInvoice, ...]
    appointment_global_id: str

    @property
    def balance_cents(self) -> int:
        """The balance the seeded invoices add up to, before any payment."""
        return sum(invoice.total_cents for invoice in self.invoices)


def encode_global_id(type_name: str, database_id: int | str) -> str:
    return base64.b64encode(f"{type_name}:{database_id}".encode()).decode()


def decode_global_id(global_id: str) -> tuple[str, int]:
    type_name, _, database_id = base64.b64decode(global_id).decode().partition(":")
    return type_name, int(database_id)


def new_email() -> str:
    return f"patient-{uuid.uuid4().hex[:16]}@example.com"


def new_password() -> str:
    return f"Willow-{uuid.uuid4().hex[:12]}-Lantern"


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


async def insert_invoices(database_url: str, patient_db_id: int) -> tuple[list[SeededInvoice], int]:
    """Insert INVOICE_SPECS and one past appointment for a patient.

    Returns the invoices, oldest due date first, and the appointment's
    database id. The appointment is billed by the oldest invoice.
    """
    today = datetime.now(UTC).date()
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            clinician = Clinician(name="Dana Whitfield", credentials="LCSW")
            session.add(clinician)
            await session.flush()
            starts_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
            appointment = Appointment(
                patient_id=patient_db_id,
                clinician_id=clinician.id,
                kind=AppointmentKind.THERAPY,
                modality=AppointmentModality.VIDEO,
                status=AppointmentStatus.COMPLETED,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=60),
            )
            session.add(appointment)
            await session.flush()

            invoices: list[Invoice] = []
            for index, spec in enumerate(INVOICE_SPECS, start=1):
                due_on = today + timedelta(days=spec.days_until_due)
                invoice = Invoice(
                    patient_id=patient_db_id,
                    appointment_id=appointment.id if index == 1 else None,
                    number=f"E2E-{patient_db_id:06d}-{index}",
                    issued_on=due_on - timedelta(days=30),
                    due_on=due_on,
                    status=InvoiceStatus.OPEN,
                    total_cents=spec.total_cents,
                    currency="USD",
                )
                session.add(invoice)
                await session.flush()
                for line in spec.lines:
                    session.add(
                        InvoiceLine(
                            invoice_id=invoice.id,
                            description=line.description,
                            category=line.category,
                            service_date=invoice.issued_on,
                            amount_cents=line.cents,
                        )
                    )
                invoices.append(invoice)
            await session.commit()
            appointment_id = appointment.id
    finally:
        await engine.dispose()

    seeded = [
        SeededInvoice(
            global_id=encode_global_id("Invoice", invoice.id),
            db_id=invoice.id,
            number=invoice.number,
            total_cents=invoice.total_cents,
            due_on=invoice.due_on,
        )
        for invoice in invoices
    ]
    return seeded, appointment_id


async def sign_up(client: GraphQLClient, *, email: str, password: str) -> dict[str, Any]:
    """Sign up a new patient and return the signUp payload. Fails the test on any user error."""
    data = await client.data(
        SIGN_UP, {"input": {"name": "Robin Alvarez", "email": email, "password": password}}
    )
    payload: dict[str, Any] = data["signUp"]
    assert payload["userErrors"] == [], f"signUp returned user errors: {payload['userErrors']}"
    return payload


async def create_patient(client: GraphQLClient, database_url: str) -> PatientAccount:
    """Sign up a patient with a unique email and give them three open invoices."""
    email = new_email()
    password = new_password()
    payload = await sign_up(client, email=email, password=password)
    type_name, db_id = decode_global_id(payload["patient"]["id"])
    assert type_name == "Patient", f"signUp returned a {type_name} id"

    invoices, appointment_id = await insert_invoices(database_url, db_id)

    return PatientAccount(
        email=email,
        password=password,
        token=payload["token"],
        global_id=payload["patient"]["id"],
        db_id=db_id,
        invoices=tuple(invoices),
        appointment_global_id=encode_global_id("Appointment", appointment_id),
    )


def card_input(number: str, *, exp_year: int | None = None) -> dict[str, Any]:
    year = exp_year if exp_year is not None else datetime.now(UTC).year + 3
    return {"number": number, "expMonth": 12, "expYear": year, "cvc": "123"}


def bank_account_input(
    account_number: str, routing_number: str = TEST_ROUTING_NUMBER
) -> dict[str, Any]:
    return {
        "routingNumber": routing_number,
        "accountNumber": account_number,
        "accountHolderName": "Robin Alvarez",
    }


async def add_payment_method(
    client: GraphQLClient, token: str, method_input: dict[str, Any]
) -> dict[str, Any]:
    """Store a payment method and return it. Fails the test on any user error."""
    data = await client.data(ADD_PAYMENT_METHOD, {"input": method_input}, token=token)
    payload = data["addPaymentMethod"]
    assert payload["userErrors"] == [], (
        f"addPaymentMethod returned user errors: {payload['userErrors']}"
    )
    method: dict[str, Any] = payload["paymentMethod"]
    return method


async def add_card(
    client: GraphQLClient, token: str, number: str, method_type: str = "CREDIT_CARD"
) -> dict[str, Any]:
    return await add_payment_method(
        client, token, {"methodType": method_type, "card": card_input(number)}
    )


async def add_bank_account(
    client: GraphQLClient, token: str, account_number: str = ACH_SETTLES
) -> dict[str, Any]:
    return await add_payment_method(
        client, token, {"methodType": "ACH", "bankAccount": bank_account_input(account_number)}
    )


async def request_pay_bill(
    client: GraphQLClient,
    token: str | None,
    *,
    payment_method_id: str,
    idempotency_key: str | None = None,
    amount_cents: int | None = None,
    invoice_ids: list[str] | None = None,
) -> dict[str, Any]:
    """Send payBill and return its payload, user errors included."""
    pay_input: dict[str, Any] = {
        "idempotencyKey": idempotency_key or new_idempotency_key(),
        "paymentMethodId": payment_method_id,
    }
    if amount_cents is not None:
        pay_input["amountCents"] = amount_cents
    if invoice_ids is not None:
        pay_input["invoiceIds"] = invoice_ids
    data = await client.data(PAY_BILL, {"input": pay_input}, token=token)
    payload: dict[str, Any] = data["payBill"]
    return payload


async def pay_bill(
    client: GraphQLClient,
    token: str,
    *,
    payment_method_id: str,
    amount_cents: int | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Pay and return the created payment. Fails the test on any user error."""
    payload = await request_pay_bill(
        client,
        token,
        payment_method_id=payment_method_id,
        amount_cents=amount_cents,
        idempotency_key=idempotency_key,
    )
    assert payload["userErrors"] == [], f"payBill returned user errors: {payload['userErrors']}"
    payment: dict[str, Any] = payload["payment"]
    return payment


async def fetch_payment(client: GraphQLClient, token: str, payment_id: str) -> dict[str, Any]:
    data = await client.data(PAYMENT, {"id": payment_id}, token=token)
    payment: dict[str, Any] = data["node"]
    return payment


async def fetch_account_summary(client: GraphQLClient, token: str) -> dict[str, Any]:
    """Return ``me`` with balance, payments, payment methods and invoice amounts."""
    data = await client.data(ACCOUNT_SUMMARY, token=token)
    summary: dict[str, Any] = data["me"]
    return summary


async def fetch_balance_cents(client: GraphQLClient, token: str) -> int:
    summary = await fetch_account_summary(client, token)
    cents: int = summary["balance"]["cents"]
    return cents


async def poll_until(
    fetch: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    description: str,
) -> T:
    """Call ``fetch`` until ``done`` accepts its result, and return that result.

    Raises TimeoutError if ``done`` still rejects it after ``deadline_seconds``.
    """
    deadline = time.monotonic() + deadline_seconds
    while True:
        value = await fetch()
        if done(value):
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"{description} did not happen within {deadline_seconds} s; last value: {value!r}"
            )
        await asyncio.sleep(POLL_INTERVAL_SECONDS)


async def wait_for_payment_status(
    client: GraphQLClient,
    token: str,
    payment_id: str,
    statuses: frozenset[str],
    *,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
) -> dict[str, Any]:
    """Poll the payment until its status is one of ``statuses`` and return it."""
    return await poll_until(
        lambda: fetch_payment(client, token, payment_id),
        lambda payment: payment["status"] in statuses,
        deadline_seconds=deadline_seconds,
        description=f"payment {payment_id} reaching {sorted(statuses)}",
    )
