"""How sign-ins end: logOut, a revoked API key, and sessions that expire or slide.

logOut closes the sockets of the session it ends at once. Everything else
that ends a sign-in is found by the gateway's periodic recheck of open
sockets, so those tests run gateways of their own with a short recheck
interval and session lifetimes of seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.accounts import (
    VISA_CREDIT,
    PatientAccount,
    add_card,
    create_patient,
    new_email,
    new_password,
    pay_bill,
    sign_up,
)
from tests.e2e.configured_server import configured_gateway
from tests.e2e.event_socket import open_stream_socket
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.operations import LOG_IN, LOG_OUT, ME
from tests.e2e.server import GatewayServer
from tests.e2e.staff_and_keys import (
    StaffAccount,
    create_partner_key,
    create_staff,
    revoke_partner_key,
    staff_log_in,
)
from tests.e2e.staff_operations import PAYMENT_EVENTS, VIEWER

# The close code the gateway sends when the sign-in behind a socket ends.
SESSION_ENDED_CLOSE_CODE = 4401
CLOSE_DEADLINE_SECONDS = 5.0
EVENT_DEADLINE_SECONDS = 5.0
HTTP_TIMEOUT_SECONDS = 15.0

RECHECK_SECONDS = 0.5
# Time a recheck may take beyond its interval: one round of database reads
# and the close handshake, on a loaded machine.
RECHECK_ALLOWANCE_SECONDS = 1.0
# How many recheck rounds a socket whose sign-in is still valid must survive.
RECHECK_ROUNDS = 3

SECONDS_PER_HOUR = 3600
STAFF_SESSION_HOURS = 0.001
PATIENT_IDLE_HOURS = 0.0004
PATIENT_MAX_HOURS = 0.0012
STAFF_SESSION_SECONDS = STAFF_SESSION_HOURS * SECONDS_PER_HOUR
PATIENT_IDLE_SECONDS = PATIENT_IDLE_HOURS * SECONDS_PER_HOUR
PATIENT_MAX_SECONDS = PATIENT_MAX_HOURS * SECONDS_PER_HOUR
# Slack for request time and clock reads on either side of an expiry.
EXPIRY_MARGIN_SECONDS = 0.7
# A patient token in use is sent this often, well inside the idle window.
USE_INTERVAL_SECONDS = 0.3
POLL_INTERVAL_SECONDS = 0.1


@pytest.fixture(scope="module")
def recheck_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    """A gateway that rechecks every open socket's sign-in twice a second."""
    settings = {"BILLING_WS_AUTH_RECHECK_SECONDS": str(RECHECK_SECONDS)}
    with configured_gateway(tmp_path_factory.mktemp("recheck"), settings) as server:
        yield server


@pytest.fixture(scope="module")
def short_session_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    """A gateway whose staff sessions last seconds and whose patient sessions slide briefly."""
    settings = {
        "BILLING_STAFF_SESSION_HOURS": str(STAFF_SESSION_HOURS),
        "BILLING_PATIENT_SESSION_IDLE_HOURS": str(PATIENT_IDLE_HOURS),
        "BILLING_PATIENT_SESSION_MAX_HOURS": str(PATIENT_MAX_HOURS),
        "BILLING_WS_AUTH_RECHECK_SECONDS": str(RECHECK_SECONDS),
    }
    with configured_gateway(tmp_path_factory.mktemp("short-sessions"), settings) as server:
        yield server


@asynccontextmanager
async def client_for(server: GatewayServer) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(
        base_url=server.base_url, trust_env=False, timeout=HTTP_TIMEOUT_SECONDS
    ) as http:
        yield GraphQLClient(http, server.secrets)


async def create_staff_on(server: GatewayServer) -> StaffAccount:
    async with client_for(server) as graphql:
        return await create_staff(graphql, server.database_url)


@pytest.fixture(scope="module")
def short_session_staff(short_session_gateway: GatewayServer) -> StaffAccount:
    """A staff member on the short-session gateway; each test signs them in afresh."""
    # The fixture is module-scoped, so it runs its own event loop because
    # pytest-asyncio closes each test's loop when the test ends.
    return asyncio.run(create_staff_on(short_session_gateway))


async def log_in_again(graphql: GraphQLClient, patient: PatientAccount) -> str:
    data = await graphql.data(
        LOG_IN, {"input": {"email": patient.email, "password": patient.password}}
    )
    token: str = data["logIn"]["token"]
    return token


async def test_log_out_closes_own_socket(
    graphql: GraphQLClient, gateway: GatewayServer, patient: PatientAccount
) -> None:
    async with open_stream_socket(gateway.ws_url, patient.token) as socket:
        await socket.start(PAYMENT_EVENTS)

        data = await graphql.data(LOG_OUT, token=patient.token)
        close_code = await socket.wait_closed(CLOSE_DEADLINE_SECONDS)

    assert data["logOut"]["loggedOut"] is True
    assert close_code == SESSION_ENDED_CLOSE_CODE


async def test_log_out_spares_other_session(
    graphql: GraphQLClient, gateway: GatewayServer, patient: PatientAccount
) -> None:
    second_token = await log_in_again(graphql, patient)
    card = await add_card(graphql, second_token, VISA_CREDIT)

    async with (
        open_stream_socket(gateway.ws_url, patient.token) as ended,
        open_stream_socket(gateway.ws_url, second_token) as kept,
    ):
        await ended.start(PAYMENT_EVENTS)
        await kept.start(PAYMENT_EVENTS)
        await graphql.data(LOG_OUT, token=patient.token)
        close_code = await ended.wait_closed(CLOSE_DEADLINE_SECONDS)
        payment = await pay_bill(graphql, second_token, payment_method_id=card["id"])
        results = await kept.next_data(1, deadline_seconds=EVENT_DEADLINE_SECONDS)

    assert close_code == SESSION_ENDED_CLOSE_CODE
    assert results[0]["paymentEvents"]["paymentId"] == payment["id"]
    assert results[0]["paymentEvents"]["status"] == "PENDING"


async def test_revoked_key_socket_closed(recheck_gateway: GatewayServer) -> None:
    key = await create_partner_key(recheck_gateway.database_url, "events:read")

    async with open_stream_socket(recheck_gateway.ws_url, key.key) as socket:
        await socket.start(PAYMENT_EVENTS)
        await revoke_partner_key(recheck_gateway.database_url, key)
        revoked_at = time.monotonic()
        close_code = await socket.wait_closed(CLOSE_DEADLINE_SECONDS)
        seconds_to_close = time.monotonic() - revoked_at

    assert close_code == SESSION_ENDED_CLOSE_CODE
    assert seconds_to_close <= RECHECK_SECONDS + RECHECK_ALLOWANCE_SECONDS


async def test_valid_key_socket_stays_open(recheck_gateway: GatewayServer) -> None:
    key = await create_partner_key(recheck_gateway.database_url, "events:read")

    async with client_for(recheck_gateway) as graphql:
        payer = await create_patient(graphql, recheck_gateway.database_url)
        card = await add_card(graphql, payer.token, VISA_CREDIT)
        async with open_stream_socket(recheck_gateway.ws_url, key.key) as socket:
            await socket.start(PAYMENT_EVENTS)
            await asyncio.sleep(RECHECK_SECONDS * RECHECK_ROUNDS)
            payment = await pay_bill(graphql, payer.token, payment_method_id=card["id"])
            results = await socket.next_data(1, deadline_seconds=EVENT_DEADLINE_SECONDS)

    assert results[0]["paymentEvents"]["paymentId"] == payment["id"]


async def wait_for_viewer_null(
    graphql: GraphQLClient, token: str, deadline_seconds: float
) -> float:
    """Poll ``viewer`` with ``token`` until it is null and return the monotonic time then.

    Raises TimeoutError if the token still signs in after ``deadline_seconds``.
    """
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        data = await graphql.data(VIEWER, token=token)
        if data["viewer"] is None:
            return time.monotonic()
        await asyncio.sleep(POLL_INTERVAL_SECONDS)
    raise TimeoutError(f"the token still signed in after {deadline_seconds} s")


async def test_staff_session_expires(
    short_session_gateway: GatewayServer, short_session_staff: StaffAccount
) -> None:
    staff = short_session_staff
    async with client_for(short_session_gateway) as graphql:
        token = await staff_log_in(graphql, staff.email, staff.password)
        signed_in_at = time.monotonic()

        first = await graphql.data(VIEWER, token=token)
        expired_at = await wait_for_viewer_null(
            graphql, token, STAFF_SESSION_SECONDS + CLOSE_DEADLINE_SECONDS
        )

    lifetime = expired_at - signed_in_at
    assert first["viewer"]["role"] == "STAFF"
    assert lifetime >= STAFF_SESSION_SECONDS - EXPIRY_MARGIN_SECONDS
    assert lifetime <= STAFF_SESSION_SECONDS + EXPIRY_MARGIN_SECONDS


async def test_expired_staff_socket_closed(
    short_session_gateway: GatewayServer, short_session_staff: StaffAccount
) -> None:
    staff = short_session_staff
    async with client_for(short_session_gateway) as graphql:
        token = await staff_log_in(graphql, staff.email, staff.password)
        signed_in_at = time.monotonic()

        async with open_stream_socket(short_session_gateway.ws_url, token) as socket:
            await socket.start(PAYMENT_EVENTS)
            close_code = await socket.wait_closed(
                STAFF_SESSION_SECONDS + RECHECK_SECONDS + RECHECK_ALLOWANCE_SECONDS
            )
            open_seconds = time.monotonic() - signed_in_at

    assert close_code == SESSION_ENDED_CLOSE_CODE
    assert open_seconds >= STAFF_SESSION_SECONDS - EXPIRY_MARGIN_SECONDS


@dataclass(frozen=True)
class TokenUse:
    """One request made with a patient token: when, counted from sign-up, and whether it worked."""

    seconds_after_sign_up: float
    signed_in: bool


async def sign_up_patient(graphql: GraphQLClient) -> tuple[str, float]:
    """Sign a new patient up and return the token and the monotonic time of the response."""
    payload = await sign_up(graphql, email=new_email(), password=new_password())
    return payload["token"], time.monotonic()


async def use_token_until(
    graphql: GraphQLClient, token: str, signed_up_at: float, until_seconds: float
) -> list[TokenUse]:
    """Query ``me`` every USE_INTERVAL_SECONDS until ``until_seconds`` after sign-up."""
    uses = []
    while time.monotonic() - signed_up_at < until_seconds:
        data = await graphql.data(ME, token=token)
        uses.append(TokenUse(time.monotonic() - signed_up_at, data["me"] is not None))
        await asyncio.sleep(USE_INTERVAL_SECONDS)
    return uses


async def test_patient_session_slides(short_session_gateway: GatewayServer) -> None:
    async with client_for(short_session_gateway) as graphql:
        token, signed_up_at = await sign_up_patient(graphql)

        uses = await use_token_until(
            graphql, token, signed_up_at, PATIENT_IDLE_SECONDS + 2 * EXPIRY_MARGIN_SECONDS
        )

    assert uses[-1].seconds_after_sign_up > PATIENT_IDLE_SECONDS + EXPIRY_MARGIN_SECONDS
    assert uses[-1].seconds_after_sign_up < PATIENT_MAX_SECONDS - EXPIRY_MARGIN_SECONDS
    assert [use for use in uses if not use.signed_in] == []


async def test_idle_patient_session_expires(short_session_gateway: GatewayServer) -> None:
    async with client_for(short_session_gateway) as graphql:
        token, _signed_up_at = await sign_up_patient(graphql)

        first = await graphql.data(ME, token=token)
        await asyncio.sleep(PATIENT_IDLE_SECONDS + EXPIRY_MARGIN_SECONDS)
        after_idle = await graphql.data(ME, token=token)

    assert first["me"] is not None
    assert after_idle["me"] is None


async def test_patient_session_ends_at_max(short_session_gateway: GatewayServer) -> None:
    async with client_for(short_session_gateway) as graphql:
        token, signed_up_at = await sign_up_patient(graphql)

        uses = await use_token_until(
            graphql, token, signed_up_at, PATIENT_MAX_SECONDS + 2 * EXPIRY_MARGIN_SECONDS
        )

    past_max = [
        use
        for use in uses
        if use.seconds_after_sign_up > PATIENT_MAX_SECONDS + EXPIRY_MARGIN_SECONDS
    ]
    assert past_max != []
    assert [use for use in past_max if use.signed_in] == []
