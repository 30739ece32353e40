"""Sign-in rate limits: failures per email, attempts per client address, and the wait between.

The suite's gateway counts at most 3 failures per email and 6 attempts per
address in a 2-second sliding window. Every test signs in from 127.0.0.1,
so the address count is shared: each test first waits until the attempts
of the test before it have left the window.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.e2e.accounts import PatientAccount, create_patient, new_email, new_password
from tests.e2e.configured_server import configured_gateway
from tests.e2e.gateway_clients import open_graphql_client
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.operations import LOG_IN
from tests.e2e.server import GatewayServer
from tests.e2e.staff_and_keys import run_cli
from tests.e2e.staff_operations import STAFF_LOG_IN

FAILURES_PER_EMAIL = 3
ATTEMPTS_PER_ADDRESS = 6
WINDOW_SECONDS = 2.0
# Slack for the clocks of the test and the server, which both use time.monotonic.
WINDOW_MARGIN_SECONDS = 0.3

SIGN_IN_LIMITS = {
    "BILLING_SIGN_IN_FAILURES_PER_EMAIL": str(FAILURES_PER_EMAIL),
    "BILLING_SIGN_IN_ATTEMPTS_PER_ADDRESS": str(ATTEMPTS_PER_ADDRESS),
    "BILLING_SIGN_IN_WINDOW_SECONDS": str(WINDOW_SECONDS),
}

# "Too many sign-in attempts. Wait 2 seconds, then try again."
RETRY_MESSAGE = re.compile(r"Wait (\d+) seconds?, then try again")
WRONG_PASSWORD = "Not-The-Password-42"

# The monotonic time of the newest sign-in attempt any test in this module sent.
_last_attempt_at = 0.0


@pytest.fixture(scope="module")
def limited_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    with configured_gateway(tmp_path_factory.mktemp("sign-in"), SIGN_IN_LIMITS) as server:
        yield server


@pytest.fixture
async def client(limited_gateway: GatewayServer) -> AsyncIterator[GraphQLClient]:
    async with open_graphql_client(limited_gateway) as graphql:
        yield graphql


@pytest.fixture(autouse=True)
async def clear_address_window() -> None:
    """Wait until the attempts of earlier tests no longer count against 127.0.0.1."""
    remaining = _last_attempt_at + WINDOW_SECONDS + WINDOW_MARGIN_SECONDS - time.monotonic()
    if remaining > 0:
        await asyncio.sleep(remaining)


@pytest.fixture
async def patient(client: GraphQLClient, limited_gateway: GatewayServer) -> PatientAccount:
    return await create_patient(client, limited_gateway.database_url)


async def sign_in(
    client: GraphQLClient, operation: str, email: str, password: str
) -> dict[str, Any]:
    """Send logIn or staffLogIn and return its payload, noting the time of the attempt."""
    global _last_attempt_at
    data = await client.data(operation, {"input": {"email": email, "password": password}})
    _last_attempt_at = time.monotonic()
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


async def log_in(client: GraphQLClient, email: str, password: str) -> dict[str, Any]:
    return await sign_in(client, LOG_IN, email, password)


async def fail_log_ins(client: GraphQLClient, email: str) -> list[str]:
    """Send FAILURES_PER_EMAIL wrong passwords for ``email`` and return the error codes."""
    codes = []
    for _ in range(FAILURES_PER_EMAIL):
        payload = await log_in(client, email, WRONG_PASSWORD)
        codes.extend(error["code"] for error in payload["userErrors"])
    return codes


def only_error(payload: dict[str, Any]) -> dict[str, Any]:
    errors = payload["userErrors"]
    assert len(errors) == 1, f"expected one user error, got {errors}"
    error: dict[str, Any] = errors[0]
    return error


async def test_wrong_passwords_rate_limited(client: GraphQLClient, patient: PatientAccount) -> None:
    codes = await fail_log_ins(client, patient.email)

    limited = await log_in(client, patient.email, WRONG_PASSWORD)

    assert codes == ["INVALID_CREDENTIALS"] * FAILURES_PER_EMAIL
    assert only_error(limited)["code"] == "RATE_LIMITED"
    assert limited["token"] is None


async def test_rate_limit_message_says_when(client: GraphQLClient, patient: PatientAccount) -> None:
    await fail_log_ins(client, patient.email)

    limited = await log_in(client, patient.email, WRONG_PASSWORD)
    match = RETRY_MESSAGE.search(only_error(limited)["message"])

    assert match is not None
    assert 1 <= int(match.group(1)) <= WINDOW_SECONDS


async def test_correct_password_rate_limited(
    client: GraphQLClient, patient: PatientAccount
) -> None:
    await fail_log_ins(client, patient.email)

    limited = await log_in(client, patient.email, patient.password)

    assert only_error(limited)["code"] == "RATE_LIMITED"
    assert limited["token"] is None
    assert limited["patient"] is None


async def test_log_in_works_after_stated_wait(
    client: GraphQLClient, patient: PatientAccount
) -> None:
    await fail_log_ins(client, patient.email)
    limited = await log_in(client, patient.email, patient.password)
    match = RETRY_MESSAGE.search(only_error(limited)["message"])
    assert match is not None, f"no wait in {only_error(limited)['message']!r}"

    await asyncio.sleep(int(match.group(1)))
    signed_in = await log_in(client, patient.email, patient.password)

    assert signed_in["userErrors"] == []
    assert signed_in["token"]


async def test_many_emails_hit_address_limit(
    client: GraphQLClient, patient: PatientAccount
) -> None:
    # The patient fixture's sign-up already counted one attempt from this address.
    allowed = ATTEMPTS_PER_ADDRESS - 1
    codes = []
    for _ in range(allowed):
        payload = await log_in(client, new_email(), WRONG_PASSWORD)
        codes.extend(error["code"] for error in payload["userErrors"])

    limited = await log_in(client, patient.email, patient.password)

    assert codes == ["INVALID_CREDENTIALS"] * allowed
    assert only_error(limited)["code"] == "RATE_LIMITED"
    assert limited["token"] is None


async def test_staff_log_in_rate_limited(
    client: GraphQLClient, limited_gateway: GatewayServer
) -> None:
    email = f"staff-{uuid.uuid4().hex[:16]}@example.com"
    password = new_password()
    await run_cli(
        limited_gateway.database_url,
        "create-staff",
        "--name",
        "Casey Morgan",
        "--email",
        email,
        stdin_text=password + "\n",
    )
    codes = []
    for _ in range(FAILURES_PER_EMAIL):
        payload = await sign_in(client, STAFF_LOG_IN, email, WRONG_PASSWORD)
        codes.extend(error["code"] for error in payload["userErrors"])

    limited = await sign_in(client, STAFF_LOG_IN, email, password)

    assert codes == ["INVALID_CREDENTIALS"] * FAILURES_PER_EMAIL
    assert only_error(limited)["code"] == "RATE_LIMITED"
    assert limited["token"] is None
