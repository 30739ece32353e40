"""Secrets stay out of the logs at DEBUG level and out of the SQLite files.

One journey covers every kind of secret the gateway handles. A patient
signs up and in, adds a card and a bank account, pays with both and
watches a payment over WebSocket. A staff member made with
``billing-gateway create-staff`` refunds, and a partner key made with
``create-api-key`` reads payments. Then everyone logs out. The journey also
makes three common client mistakes, which the gateway rejects: a card
number, a CVC and an account number sent as JSON numbers, not strings.

The checked output is the server's stdout and stderr, the CLI's stderr and
the stdout of create-staff. create-api-key prints the new key on stdout on
purpose, so that stream is not checked. A line with an account number
fails the check whether or not the routing number is beside it.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.accounts import (
    ACH_ACCOUNT_CLOSED,
    ACH_SETTLES,
    OUTCOME_STATUSES,
    VISA_CREDIT,
    VISA_DEBIT,
    add_bank_account,
    add_payment_method,
    bank_account_input,
    create_patient,
    new_idempotency_key,
    new_password,
    pay_bill,
    wait_for_payment_status,
)
from tests.e2e.configured_server import configured_gateway
from tests.e2e.gateway_clients import open_graphql_client
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.graphql_ws import TRANSPORT_WS, subscribe
from tests.e2e.operations import ADD_PAYMENT_METHOD, LOG_IN, LOG_OUT, PAYMENT_STATUS_CHANGED
from tests.e2e.server import PROJECT_ROOT, GatewayServer, gateway_environment
from tests.e2e.staff_operations import REFUND_PAYMENT, STAFF_LOG_IN

DEBUG_SETTINGS = {"BILLING_LOG_LEVEL": "DEBUG"}
CLI = str(Path(sys.executable).with_name("billing-gateway"))
CLI_TIMEOUT_SECONDS = 30.0
API_KEY_PREFIX = "bgk_"

# Any CVC passes in the sandbox. Three digits also occur in log timestamps
# ("20:31:47,947"), so CVC_IN_TEXT skips digits that follow a comma, point,
# colon or another word character.
CVC = "947"
CVC_IN_TEXT = re.compile(rf"(?<![\w,.:]){CVC}(?![\w.])|cvc\W{{0,10}}{CVC}", re.IGNORECASE)
SPACED_VISA_CREDIT = " ".join(VISA_CREDIT[index : index + 4] for index in range(0, 16, 4))

PARTNER_PAYMENTS = """
query PartnerPayments {
  payments(first: 5) { edges { node { id status } } }
}
"""

STAFF_LOG_OUT = """
mutation StaffLogOut {
  logOut { loggedOut }
}
"""


@dataclass
class Journey:
    """Secrets sent or received, by kind, and the output the journey produced."""

    secrets: dict[str, set[str]] = field(default_factory=dict)
    # Output to check, by where it came from, e.g. "create-staff stderr".
    outputs: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, *values: str) -> None:
        self.secrets.setdefault(kind, set()).update(values)


async def run_cli(database_url: str, *args: str, stdin_text: str = "") -> tuple[str, str]:
    """Run ``billing-gateway ARGS`` at DEBUG level and return its stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        CLI,
        *args,
        cwd=PROJECT_ROOT,
        env=gateway_environment(database_url) | DEBUG_SETTINGS,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(
        process.communicate(stdin_text.encode()), CLI_TIMEOUT_SECONDS
    )
    assert process.returncode == 0, (
        f"billing-gateway {args[0]} exited with {process.returncode}: {stderr.decode()}"
    )
    return stdout.decode(), stderr.decode()


def card(number: str | int, cvc: str | int) -> dict[str, object]:
    return {"number": number, "expMonth": 12, "expYear": datetime.now(UTC).year + 3, "cvc": cvc}


async def send_rejected_inputs(client: GraphQLClient, token: str, journey: Journey) -> None:
    """Send a card number, a CVC and an account number as JSON numbers, as a buggy client might."""
    mistakes: list[dict[str, object]] = [
        {"methodType": "DEBIT_CARD", "card": card(int(VISA_DEBIT), CVC)},
        {"methodType": "CREDIT_CARD", "card": card(VISA_CREDIT, int(CVC))},
        {
            "methodType": "ACH",
            "bankAccount": bank_account_input(ACH_ACCOUNT_CLOSED)
            | {"accountNumber": int(ACH_ACCOUNT_CLOSED)},
        },
    ]
    journey.add("card numbers", VISA_DEBIT)
    journey.add("account numbers", str(int(ACH_ACCOUNT_CLOSED)))
    for method_input in mistakes:
        result = await client.execute(ADD_PAYMENT_METHOD, {"input": method_input}, token=token)
        assert result.get("errors"), f"the gateway accepted {method_input}"


async def create_staff_token(client: GraphQLClient, server: GatewayServer, journey: Journey) -> str:
    email = "clerk-secrets@example.com"
    password = new_password()
    journey.add("passwords", password)
    stdout, stderr = await run_cli(
        server.database_url,
        "create-staff",
        "--name",
        "Casey Morgan",
        "--email",
        email,
        stdin_text=password + "\n",
    )
    journey.outputs["create-staff stdout"] = stdout
    journey.outputs["create-staff stderr"] = stderr

    data = await client.data(STAFF_LOG_IN, {"input": {"email": email, "password": password}})
    token: str = data["staffLogIn"]["token"]
    journey.add("tokens", token)
    return token


async def create_api_key(server: GatewayServer, journey: Journey) -> str:
    stdout, stderr = await run_cli(
        server.database_url,
        "create-api-key",
        "--name",
        "Northwind Clearing House",
        "--scope",
        "payments:read",
    )
    journey.outputs["create-api-key stderr"] = stderr
    keys = [line.strip() for line in stdout.splitlines() if line.startswith(API_KEY_PREFIX)]
    assert len(keys) == 1, f"create-api-key printed {stdout!r}"
    journey.add("API keys", keys[0])
    return keys[0]


async def run_journey(server: GatewayServer) -> Journey:
    journey = Journey()
    journey.add("card numbers", VISA_CREDIT, SPACED_VISA_CREDIT)
    journey.add("account numbers", ACH_SETTLES)
    async with open_graphql_client(server) as client:
        patient = await create_patient(client, server.database_url)
        journey.add("passwords", patient.password)
        journey.add("tokens", patient.token)
        logged_in = await client.data(
            LOG_IN, {"input": {"email": patient.email, "password": patient.password}}
        )
        token: str = logged_in["logIn"]["token"]
        journey.add("tokens", token)

        visa = await add_payment_method(
            client, token, {"methodType": "CREDIT_CARD", "card": card(SPACED_VISA_CREDIT, CVC)}
        )
        bank = await add_bank_account(client, token, ACH_SETTLES)
        await send_rejected_inputs(client, token, journey)

        card_payment = await pay_bill(
            client, token, payment_method_id=visa["id"], amount_cents=2_000
        )
        ach_payment = await pay_bill(
            client, token, payment_method_id=bank["id"], amount_cents=1_500
        )
        watched = await subscribe(
            server.ws_url,
            TRANSPORT_WS,
            PAYMENT_STATUS_CHANGED,
            {"paymentId": card_payment["id"]},
            token=token,
        )
        assert watched.completed, f"the card payment's subscription ended with {watched}"
        await wait_for_payment_status(client, token, ach_payment["id"], OUTCOME_STATUSES)

        staff_token = await create_staff_token(client, server, journey)
        refund_input = {
            "paymentId": card_payment["id"],
            "amountCents": 500,
            "reason": "Billed twice",
            "idempotencyKey": new_idempotency_key(),
        }
        refunded = await client.data(REFUND_PAYMENT, {"input": refund_input}, token=staff_token)
        assert refunded["refundPayment"]["userErrors"] == []

        api_key = await create_api_key(server, journey)
        await client.data(PARTNER_PAYMENTS, token=api_key)

        for patient_token in (token, patient.token):
            await client.data(LOG_OUT, token=patient_token)
        await client.data(STAFF_LOG_OUT, token=staff_token)

    journey.outputs["server stderr"] = server.read_stderr()
    journey.outputs["server stdout"] = server.read_stdout()
    return journey


def database_files(server: GatewayServer) -> dict[str, bytes]:
    """Read the SQLite file and, where they exist, its -wal and -shm files."""
    path = Path(server.database_url.removeprefix("sqlite+aiosqlite:///"))
    files = {}
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            files[candidate.name] = candidate.read_bytes()
    return files


def leaked_lines(journey: Journey, secrets: set[str]) -> list[str]:
    return [
        f"{source}: {line}"
        for source, output in journey.outputs.items()
        for line in output.splitlines()
        if any(secret in line for secret in secrets)
    ]


@pytest.fixture(scope="module")
def debug_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    with configured_gateway(tmp_path_factory.mktemp("debug"), DEBUG_SETTINGS) as server:
        yield server


@pytest.fixture(scope="module")
def journey(debug_gateway: GatewayServer) -> Journey:
    # Module-scoped, so it runs its own event loop: pytest-asyncio closes
    # each test's loop when the test ends.
    return asyncio.run(run_journey(debug_gateway))


SECRET_KINDS = ["passwords", "tokens", "API keys", "card numbers", "account numbers"]


def test_log_level_is_debug(journey: Journey) -> None:
    debug_lines = [
        line for line in journey.outputs["server stderr"].splitlines() if " DEBUG " in line
    ]

    assert debug_lines


@pytest.mark.parametrize("kind", SECRET_KINDS)
def test_logs_omit_secrets(journey: Journey, kind: str) -> None:
    secrets = journey.secrets.get(kind, set())

    leaks = leaked_lines(journey, secrets)

    assert secrets, f"the journey sent no {kind}, so the check would be empty"
    assert leaks == []


def test_logs_omit_cvc(journey: Journey) -> None:
    leaks = [
        f"{source}: {line}"
        for source, output in journey.outputs.items()
        for line in output.splitlines()
        if CVC_IN_TEXT.search(line)
    ]

    assert leaks == []


@pytest.mark.parametrize("kind", SECRET_KINDS)
def test_database_omits_secrets(debug_gateway: GatewayServer, journey: Journey, kind: str) -> None:
    # A CVC is three digits, which occur by chance in binary pages, so it is
    # not searched for here.
    files = database_files(debug_gateway)
    secrets = journey.secrets.get(kind, set())

    found = sorted(
        f"{name}: {secret}"
        for name, content in files.items()
        for secret in secrets
        if secret.encode() in content
    )

    assert "billing.db" in files
    assert secrets
    assert found == []
