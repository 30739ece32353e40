"""The server's own output: useful lines present, secrets absent.

conftest.py runs this suite after all others, so the captured output covers
every request of the session. The ``logged_payment`` fixture also signs in,
pays and subscribes itself, so the suite checks real lines when run alone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.accounts import (
    ACH_SETTLES,
    OUTCOME_STATUSES,
    VISA_CREDIT,
    VISA_DEBIT,
    PatientAccount,
    add_bank_account,
    add_card,
    create_patient,
    decode_global_id,
    pay_bill,
    wait_for_payment_status,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.graphql_ws import TRANSPORT_WS, subscribe
from tests.e2e.operations import LOG_IN, PAYMENT_STATUS_CHANGED
from tests.e2e.server import GatewayServer


@dataclass(frozen=True)
class LoggedPayment:
    payment_db_id: int
    stderr: str
    stdout: str


async def send_rejected_requests_with_secrets(
    http: httpx.AsyncClient, patient: PatientAccount
) -> None:
    """Send requests the gateway rejects, carrying a password and a card number inline.

    A mutation over GET puts the password in the query string, and an invalid
    card input puts the number in the query text, both outside any variables.
    """
    log_in = (
        f'mutation {{ logIn(input: {{email: "{patient.email}", '
        f'password: "{patient.password}"}}) {{ token }} }}'
    )
    await http.get("/graphql", params={"query": log_in}, headers={"Accept": "application/json"})
    add_card_inline = (
        "mutation { addPaymentMethod(input: {methodType: CREDIT_CARD, card: "
        f'{{number: "{VISA_DEBIT}", expMonth: "twelve", expYear: 2030, cvc: "123"}}}}) '
        "{ paymentMethod { id } } }"
    )
    await http.post(
        "/graphql",
        json={"query": add_card_inline},
        headers={"Authorization": f"Bearer {patient.token}"},
    )


async def make_logged_payment(gateway: GatewayServer) -> int:
    """Sign up, send rejected requests, sign in again, add methods, pay and watch the payment.

    Returns the payment's database id.
    """
    async with httpx.AsyncClient(base_url=gateway.base_url, trust_env=False, timeout=15) as http:
        client = GraphQLClient(http, gateway.secrets)
        patient = await create_patient(client, gateway.database_url)
        gateway.secrets["number"].add(VISA_DEBIT)
        await send_rejected_requests_with_secrets(http, patient)
        await client.data(LOG_IN, {"input": {"email": patient.email, "password": patient.password}})
        await add_bank_account(client, patient.token, ACH_SETTLES)
        method = await add_card(client, patient.token, VISA_CREDIT)
        payment = await pay_bill(
            client, patient.token, payment_method_id=method["id"], amount_cents=2_000
        )
        await subscribe(
            gateway.ws_url,
            TRANSPORT_WS,
            PAYMENT_STATUS_CHANGED,
            {"paymentId": payment["id"]},
            token=patient.token,
        )
        await wait_for_payment_status(client, patient.token, payment["id"], OUTCOME_STATUSES)
    return decode_global_id(payment["id"])[1]


@pytest.fixture(scope="module")
def logged_payment(gateway: GatewayServer) -> LoggedPayment:
    # The fixture is module-scoped, so it runs its own event loop because
    # pytest-asyncio closes each test's loop when the test ends.
    payment_db_id = asyncio.run(make_logged_payment(gateway))
    return LoggedPayment(
        payment_db_id=payment_db_id, stderr=gateway.read_stderr(), stdout=gateway.read_stdout()
    )


def leaked(secrets: set[str], output: str) -> list[str]:
    return sorted(secret for secret in secrets if secret in output)


@pytest.mark.parametrize(
    "field",
    ["number", "accountNumber", "password", "token"],
    ids=["card-numbers", "account-numbers", "passwords", "bearer-tokens"],
)
def test_log_omits_secrets(
    gateway: GatewayServer, logged_payment: LoggedPayment, field: str
) -> None:
    secrets = gateway.secrets[field]

    stderr_leaks = leaked(secrets, logged_payment.stderr)
    stdout_leaks = leaked(secrets, logged_payment.stdout)

    assert secrets, f"no {field} values were sent or received, so the check would be empty"
    assert stderr_leaks == []
    assert stdout_leaks == []


def test_log_records_payment_transition(logged_payment: LoggedPayment) -> None:
    expected = f"payment {logged_payment.payment_db_id} moved from PROCESSING to SUCCEEDED"

    lines = [line for line in logged_payment.stderr.splitlines() if expected in line]

    assert len(lines) == 1


def test_log_records_graphql_requests(logged_payment: LoggedPayment) -> None:
    request_lines = [
        line
        for line in logged_payment.stderr.splitlines()
        if "gateway.requests" in line and "graphql mutation PayBill: ok in" in line
    ]

    assert request_lines


def test_log_has_no_unexpected_errors(logged_payment: LoggedPayment) -> None:
    error_lines = [
        line
        for line in logged_payment.stderr.splitlines()
        if " ERROR " in line or "Traceback" in line
    ]

    assert error_lines == []
