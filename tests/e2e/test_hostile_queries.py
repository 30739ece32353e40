"""Query limits: an operation at or just under a limit runs, one just over is rejected unexecuted.

Most tests use a gateway with small limits (``SMALL_LIMITS``), so the
operations stay short. An over-limit operation is a mutation where it can
be, and the test then checks that nothing was written: no payment, no
account. Depth counts from 0 at the root field, as Strawberry's
QueryDepthLimiter does. Cost follows schema/cost.py: an object field
costs 1 plus what is selected inside it, and a connection costs ``first``
times that.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.e2e.accounts import (
    VISA_CREDIT,
    PatientAccount,
    add_card,
    create_patient,
    new_email,
    new_idempotency_key,
    new_password,
    pay_bill,
)
from tests.e2e.configured_server import configured_gateway
from tests.e2e.gateway_clients import open_graphql_client
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.graphql_ws import PROTOCOLS, TRANSPORT_WS, bearer_connection_params
from tests.e2e.server import GatewayServer

MAX_DEPTH = 5
MAX_ALIASES = 3
MAX_TOKENS = 100
MAX_COST = 200
MAX_BATCH_OPERATIONS = 2
MAX_BODY_BYTES = 2_000
MAX_SUBSCRIPTIONS = 2

SMALL_LIMITS = {
    "BILLING_MAX_QUERY_DEPTH": str(MAX_DEPTH),
    "BILLING_MAX_ALIASES": str(MAX_ALIASES),
    "BILLING_MAX_TOKENS": str(MAX_TOKENS),
    "BILLING_MAX_QUERY_COST": str(MAX_COST),
    "BILLING_MAX_BATCH_OPERATIONS": str(MAX_BATCH_OPERATIONS),
    "BILLING_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
    "BILLING_MAX_SUBSCRIPTIONS_PER_CONNECTION": str(MAX_SUBSCRIPTIONS),
}

# Limits of a gateway started without BILLING_MAX_* variables.
DEFAULT_MAX_DEPTH = 12
# A hostile query must be turned away well before it could tie up the server.
FAST_REJECTION_SECONDS = 1.0
SUBSCRIPTION_DEADLINE_SECONDS = 10.0

# ``category`` sits at depth 5: payBill 0, payment 1, allocations 2, invoice 3, lines 4.
DEPTH_AT_LIMIT = """
mutation DepthAtLimit($input: PayBillInput!) {
  payBill(input: $input) { payment { allocations { invoice { lines { category } } } } }
}
"""

# ``cents`` sits at depth 6.
DEPTH_OVER_LIMIT = """
mutation DepthOverLimit($input: PayBillInput!) {
  payBill(input: $input) {
    payment { allocations { invoice { appointment { clinician { name } } } } }
  }
}
"""

# payBill 1 + payment 1 + patient 1 + invoices 98 * (1 + pageInfo 1) = 199.
COST_UNDER_LIMIT = """
mutation CostUnderLimit($input: PayBillInput!) {
  payBill(input: $input) {
    payment { id patient { invoices(first: 98) { pageInfo { hasNextPage } } } }
  }
}
"""

# The same with first: 99 costs 201.
COST_OVER_LIMIT = """
mutation CostOverLimit($input: PayBillInput!) {
  payBill(input: $input) {
    payment { id patient { invoices(first: 99) { pageInfo { hasNextPage } } } }
  }
}
"""
COST_OVER_LIMIT_VALUE = 201

# A variable page size is unknown during validation, so it counts as the
# maximum of 100: 1 + 100 * 2 = 201, whatever the variable holds.
COST_WITH_VARIABLE_FIRST = """
query VariableFirst($first: Int) {
  me { invoices(first: $first) { pageInfo { hasNextPage } } }
}
"""

ALIASES_AT_LIMIT = """
mutation AliasesAtLimit($a: SignUpInput!, $b: SignUpInput!, $c: SignUpInput!) {
  a: signUp(input: $a) { token }
  b: signUp(input: $b) { token }
  c: signUp(input: $c) { token }
}
"""

ALIASES_OVER_LIMIT = """
mutation AliasesOverLimit($a: SignUpInput!, $b: SignUpInput!, $c: SignUpInput!, $d: SignUpInput!) {
  a: signUp(input: $a) { token }
  b: signUp(input: $b) { token }
  c: signUp(input: $c) { token }
  d: signUp(input: $d) { token }
}
"""

# Two braces and one token per field name.
TOKENS_AT_LIMIT = "{ " + "__typename " * (MAX_TOKENS - 2) + "}"
TOKENS_OVER_LIMIT = "{ " + "__typename " * (MAX_TOKENS - 1) + "}"

SIGN_UP_TOKEN = """
mutation SignUpToken($input: SignUpInput!) {
  signUp(input: $input) { token userErrors { code } }
}
"""

MY_PAYMENTS = """
query MyPayments {
  me { payments(first: 5) { edges { node { id } } } }
}
"""

ALL_PAYMENT_EVENTS = """
subscription AllPaymentEvents {
  paymentEvents { sequence status paymentId }
}
"""

# Each cycle nests four more levels: allocation, invoice, allocation, payment.
NESTING_CYCLE = "allocations { invoice { allocations { payment { "
NESTING_CYCLES = 40
DEEP_SELF_NESTING = (
    "query DeepSelfNesting { me { payments { edges { node { "
    + NESTING_CYCLE * NESTING_CYCLES
    + "id "
    + "} } } } " * NESTING_CYCLES
    + "} } } } }"
)

# Each fragment spreads the next one twice, so walking every spread visits
# 2 ** FAN_OUT_LEVELS copies of the innermost fragment. The document itself
# is under 400 tokens and merges to one field.
FAN_OUT_LEVELS = 18
FRAGMENT_FAN_OUT = "\n".join(
    [
        "query FragmentFanOut { me { ...Level0 } }",
        *(
            f"fragment Level{level} on Patient {{ "
            f"... on Patient {{ ...Level{level + 1} }} ... on Patient {{ ...Level{level + 1} }} }}"
            for level in range(FAN_OUT_LEVELS)
        ),
        f"fragment Level{FAN_OUT_LEVELS} on Patient {{ name }}",
    ]
)

INTROSPECTION = """
query SchemaRoot {
  __schema { queryType { name } }
}
"""

MISSPELLED_FIELD = """
query Misspelled {
  me { nam }
}
"""


@pytest.fixture(scope="module")
def limited_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    with configured_gateway(tmp_path_factory.mktemp("limited"), SMALL_LIMITS) as server:
        yield server


@pytest.fixture(scope="module")
def demo_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    demo_settings = {"BILLING_PROFILE": "demo"}
    with configured_gateway(tmp_path_factory.mktemp("demo"), demo_settings) as server:
        yield server


@pytest.fixture
async def limited(limited_gateway: GatewayServer) -> AsyncIterator[GraphQLClient]:
    async with open_graphql_client(limited_gateway) as client:
        yield client


@pytest.fixture
async def demo(demo_gateway: GatewayServer) -> AsyncIterator[GraphQLClient]:
    async with open_graphql_client(demo_gateway) as client:
        yield client


@dataclass(frozen=True)
class Payer:
    patient: PatientAccount
    card_id: str

    def pay_bill_variables(self) -> dict[str, Any]:
        return {
            "input": {
                "idempotencyKey": new_idempotency_key(),
                "paymentMethodId": self.card_id,
                "amountCents": 1_000,
            }
        }


@pytest.fixture
async def payer(limited: GraphQLClient, limited_gateway: GatewayServer) -> Payer:
    """A patient on the limited gateway with open invoices and a Visa card."""
    patient = await create_patient(limited, limited_gateway.database_url)
    card = await add_card(limited, patient.token, VISA_CREDIT)
    return Payer(patient=patient, card_id=card["id"])


def sign_up_input() -> dict[str, str]:
    return {"name": "Robin Alvarez", "email": new_email(), "password": new_password()}


async def email_is_free(client: GraphQLClient, email: str) -> bool:
    """Sign up with ``email`` and tell whether that worked, which proves no account had it."""
    result = await client.execute(SIGN_UP_TOKEN, {"input": {**sign_up_input(), "email": email}})
    user_errors: list[dict[str, Any]] = result["data"]["signUp"]["userErrors"]
    return user_errors == []


async def payment_ids(client: GraphQLClient, token: str) -> list[str]:
    data = await client.data(MY_PAYMENTS, token=token)
    return [edge["node"]["id"] for edge in data["me"]["payments"]["edges"]]


def error_messages(result: dict[str, Any]) -> list[str]:
    return [error["message"] for error in result.get("errors") or []]


def error_codes(result: dict[str, Any]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in result.get("errors") or []]


def padded_sign_up_body(size: int, sign_up: dict[str, str]) -> bytes:
    """Encode a signUp request of exactly ``size`` bytes, padded with a GraphQL comment.

    A comment is one token and is ignored by execution, so only the size changes.
    """
    query = SIGN_UP_TOKEN + "#"
    unpadded = json.dumps({"query": query, "variables": {"input": sign_up}}).encode()
    padding = size - len(unpadded)
    assert padding >= 0, f"the unpadded body already has {len(unpadded)} bytes"
    body = json.dumps({"query": query + "x" * padding, "variables": {"input": sign_up}})
    encoded = body.encode()
    assert len(encoded) == size
    return encoded


async def in_chunks(body: bytes, chunk_size: int = 500) -> AsyncIterator[bytes]:
    """Yield ``body`` in pieces, so httpx sends it chunked and without Content-Length."""
    for start in range(0, len(body), chunk_size):
        yield body[start : start + chunk_size]


# Depth


async def test_depth_at_limit_runs(limited: GraphQLClient, payer: Payer) -> None:
    result = await limited.execute(
        DEPTH_AT_LIMIT, payer.pay_bill_variables(), token=payer.patient.token
    )

    assert result.get("errors") is None
    assert result["data"]["payBill"]["payment"]["allocations"]


async def test_depth_over_limit_rejected(limited: GraphQLClient, payer: Payer) -> None:
    result = await limited.execute(
        DEPTH_OVER_LIMIT, payer.pay_bill_variables(), token=payer.patient.token
    )
    payments = await payment_ids(limited, payer.patient.token)

    assert result["data"] is None
    assert error_codes(result) == ["QUERY_TOO_DEEP"]
    assert error_messages(result) == [
        f"Operation DepthOverLimit nests {MAX_DEPTH + 1} levels deep, above the limit of "
        f"{MAX_DEPTH}. Split it into smaller queries."
    ]
    assert payments == []


async def test_deep_self_nesting_rejected_fast(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    started = time.perf_counter()
    result = await graphql.execute(DEEP_SELF_NESTING, token=patient.token)
    elapsed = time.perf_counter() - started

    assert result["data"] is None
    assert "QUERY_TOO_DEEP" in error_codes(result)
    assert elapsed < FAST_REJECTION_SECONDS


async def test_fragment_fan_out_answered_fast(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    started = time.perf_counter()
    await graphql.execute(FRAGMENT_FAN_OUT, token=patient.token)
    elapsed = time.perf_counter() - started

    assert elapsed < FAST_REJECTION_SECONDS


# Aliases


async def test_aliases_at_limit_run(limited: GraphQLClient) -> None:
    variables = {name: sign_up_input() for name in "abc"}

    result = await limited.execute(ALIASES_AT_LIMIT, variables)

    assert result.get("errors") is None
    assert all(result["data"][name]["token"] for name in "abc")


async def test_aliases_over_limit_rejected(limited: GraphQLClient) -> None:
    variables = {name: sign_up_input() for name in "abcd"}

    result = await limited.execute(ALIASES_OVER_LIMIT, variables)
    free = [await email_is_free(limited, variables[name]["email"]) for name in "abcd"]

    assert result["data"] is None
    assert error_codes(result) == ["TOO_MANY_ALIASES"]
    assert error_messages(result) == [
        f"Operation AliasesOverLimit uses 4 aliases, above the limit of {MAX_ALIASES}. "
        "Send fewer aliased fields."
    ]
    assert free == [True, True, True, True]


# Tokens


async def test_tokens_at_limit_run(limited: GraphQLClient) -> None:
    result = await limited.execute(TOKENS_AT_LIMIT)

    assert result.get("errors") is None
    assert result["data"] == {"__typename": "Query"}


async def test_tokens_over_limit_rejected(limited: GraphQLClient) -> None:
    result = await limited.execute(TOKENS_OVER_LIMIT)
    messages = error_messages(result)

    assert result["data"] is None
    assert len(messages) == 1
    assert f"more than {MAX_TOKENS} tokens" in messages[0]


# Cost


async def test_cost_under_limit_runs(limited: GraphQLClient, payer: Payer) -> None:
    result = await limited.execute(
        COST_UNDER_LIMIT, payer.pay_bill_variables(), token=payer.patient.token
    )
    payment = result["data"]["payBill"]["payment"]

    assert result.get("errors") is None
    assert payment["patient"]["invoices"]["pageInfo"]["hasNextPage"] is False


async def test_cost_over_limit_rejected(limited: GraphQLClient, payer: Payer) -> None:
    result = await limited.execute(
        COST_OVER_LIMIT, payer.pay_bill_variables(), token=payer.patient.token
    )
    payments = await payment_ids(limited, payer.patient.token)
    errors = result.get("errors") or []

    assert result["data"] is None
    assert len(errors) == 1
    assert f"estimated cost of {COST_OVER_LIMIT_VALUE}" in errors[0]["message"]
    assert f"limit of {MAX_COST}" in errors[0]["message"]
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert errors[0]["extensions"]["cost"] == COST_OVER_LIMIT_VALUE
    assert errors[0]["extensions"]["limit"] == MAX_COST
    assert payments == []


async def test_cost_counts_variable_first_as_max(limited: GraphQLClient, payer: Payer) -> None:
    result = await limited.execute(
        COST_WITH_VARIABLE_FIRST, {"first": 1}, token=payer.patient.token
    )
    codes = [(error.get("extensions") or {}).get("code") for error in result.get("errors") or []]

    assert result["data"] is None
    assert codes == ["QUERY_TOO_COSTLY"]


# Batches


async def test_batch_at_limit_runs(limited: GraphQLClient) -> None:
    batch = [{"query": SIGN_UP_TOKEN, "variables": {"input": sign_up_input()}} for _ in range(2)]

    response = await limited.http.post("/graphql", json=batch)
    results = response.json()

    assert response.status_code == 200
    assert len(results) == 2
    assert all(result["data"]["signUp"]["token"] for result in results)


async def test_batch_over_limit_rejected(limited: GraphQLClient) -> None:
    batch = [{"query": SIGN_UP_TOKEN, "variables": {"input": sign_up_input()}} for _ in range(3)]

    response = await limited.http.post("/graphql", json=batch)
    free = [await email_is_free(limited, item["variables"]["input"]["email"]) for item in batch]

    assert response.status_code == 400
    assert "Too many operations" in response.text
    assert free == [True, True, True]


# Request body size


async def test_body_at_limit_runs(limited: GraphQLClient) -> None:
    body = padded_sign_up_body(MAX_BODY_BYTES, sign_up_input())

    response = await limited.http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 200
    assert response.json()["data"]["signUp"]["token"]


async def test_body_over_limit_rejected(limited: GraphQLClient) -> None:
    sign_up = sign_up_input()
    body = padded_sign_up_body(MAX_BODY_BYTES + 1, sign_up)

    response = await limited.http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    error = response.json()["errors"][0]

    assert response.status_code == 413
    assert f"larger than {MAX_BODY_BYTES} bytes" in error["message"]
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert error["extensions"]["limit"] == MAX_BODY_BYTES
    assert await email_is_free(limited, sign_up["email"])


async def test_chunked_body_at_limit_runs(limited: GraphQLClient) -> None:
    body = padded_sign_up_body(MAX_BODY_BYTES, sign_up_input())

    response = await limited.http.post(
        "/graphql", content=in_chunks(body), headers={"Content-Type": "application/json"}
    )

    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 200
    assert response.json()["data"]["signUp"]["token"]


async def test_chunked_body_over_limit_rejected(limited: GraphQLClient) -> None:
    sign_up = sign_up_input()
    body = padded_sign_up_body(MAX_BODY_BYTES + 1, sign_up)

    response = await limited.http.post(
        "/graphql", content=in_chunks(body), headers={"Content-Type": "application/json"}
    )
    error = response.json()["errors"][0]

    assert "Content-Length" not in response.request.headers
    assert response.status_code == 413
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert await email_is_free(limited, sign_up["email"])


# Subscriptions per WebSocket connection


@asynccontextmanager
async def open_connection(
    ws_url: str, protocol: str, token: str
) -> AsyncIterator[ClientConnection]:
    """Connect with ``protocol``, finish connection_init, and close on leaving the block."""
    async with connect(
        ws_url,
        subprotocols=[Subprotocol(protocol)],
        proxy=None,
        open_timeout=SUBSCRIPTION_DEADLINE_SECONDS,
    ) as connection:
        init = {"type": "connection_init", "payload": bearer_connection_params(token)}
        await connection.send(json.dumps(init))
        ack = await receive_message(connection)
        assert ack["type"] == "connection_ack", f"expected connection_ack, received {ack}"
        yield connection


async def receive_message(connection: ClientConnection) -> dict[str, Any]:
    """Return the next message that is not a keep-alive (ping, pong, ka)."""
    while True:
        raw = await asyncio.wait_for(connection.recv(), SUBSCRIPTION_DEADLINE_SECONDS)
        message: dict[str, Any] = json.loads(raw)
        if message["type"] == "ping":
            await connection.send(json.dumps({"type": "pong"}))
        elif message["type"] not in {"pong", "ka"}:
            return message


async def start_subscription(
    connection: ClientConnection, protocol: str, operation_id: str, query: str
) -> None:
    kind = "subscribe" if protocol == TRANSPORT_WS else "start"
    message = {"id": operation_id, "type": kind, "payload": {"query": query, "variables": {}}}
    await connection.send(json.dumps(message))


async def test_subscriptions_at_limit_run(
    limited: GraphQLClient, limited_gateway: GatewayServer, payer: Payer
) -> None:
    succeeded_on: set[str] = set()
    ws_url = limited_gateway.ws_url
    async with open_connection(ws_url, TRANSPORT_WS, payer.patient.token) as connection:
        for operation_id in ("1", "2"):
            await start_subscription(connection, TRANSPORT_WS, operation_id, ALL_PAYMENT_EVENTS)
        payment = await pay_bill(
            limited, payer.patient.token, payment_method_id=payer.card_id, amount_cents=1_000
        )

        async with asyncio.timeout(SUBSCRIPTION_DEADLINE_SECONDS):
            while succeeded_on != {"1", "2"}:
                message = await receive_message(connection)
                assert message["type"] == "next", f"expected next, received {message}"
                event = message["payload"]["data"]["paymentEvents"]
                if event["paymentId"] == payment["id"] and event["status"] == "SUCCEEDED":
                    succeeded_on.add(message["id"])

    assert succeeded_on == {"1", "2"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscription_over_limit_rejected(
    limited_gateway: GatewayServer, payer: Payer, protocol: str
) -> None:
    ws_url = limited_gateway.ws_url
    async with open_connection(ws_url, protocol, payer.patient.token) as connection:
        for operation_id in ("1", "2", "3"):
            await start_subscription(connection, protocol, operation_id, ALL_PAYMENT_EVENTS)
        message = await receive_message(connection)
    payload = message["payload"]
    errors = payload if protocol == TRANSPORT_WS else [payload]

    assert message["type"] == "error"
    assert message["id"] == "3"
    assert [error["message"] for error in errors] == ["Subscription limit reached"]


# Introspection and field suggestions


async def test_introspection_off_by_default(graphql: GraphQLClient) -> None:
    result = await graphql.execute(INTROSPECTION)
    messages = error_messages(result)

    assert result["data"] is None
    assert messages
    assert "introspection has been disabled" in messages[0]


async def test_introspection_on_in_demo(demo: GraphQLClient) -> None:
    result = await demo.execute(INTROSPECTION)

    assert result.get("errors") is None
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_suggestions_absent_by_default(graphql: GraphQLClient) -> None:
    result = await graphql.execute(MISSPELLED_FIELD)
    messages = error_messages(result)

    assert messages == ["Cannot query field 'nam' on type 'Patient'."]


async def test_suggestions_present_in_demo(demo: GraphQLClient) -> None:
    result = await demo.execute(MISSPELLED_FIELD)
    messages = error_messages(result)

    assert len(messages) == 1
    assert "Did you mean 'name'?" in messages[0]
