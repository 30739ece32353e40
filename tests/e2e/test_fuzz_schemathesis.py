"""Schemathesis fuzzing of every query and mutation, signed in as a patient and as staff.

The gateway serves no introspection outside the demo profile, so the schema
comes from ``billing-gateway export-schema`` and the fuzzed server runs the
production profile. Schemathesis generates schema-valid (positive) and
schema-breaking (negative) operations from a fixed seed, a bounded number
per operation. Every response is recorded first, and the tests then check
the whole record: no 5xx, no leaked exception or SQL text, no internal error.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode

from tests.e2e.accounts import VISA_CREDIT, add_card, create_patient
from tests.e2e.configured_server import configured_gateway
from tests.e2e.gateway_clients import open_graphql_client
from tests.e2e.server import PROJECT_ROOT, GatewayServer
from tests.e2e.staff_and_keys import create_staff

CLI = str(Path(sys.executable).with_name("billing-gateway"))
EXPORT_TIMEOUT_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 10.0
FUZZ_SEED = 20_260_412
# Per operation, generation mode and role: 13 operations x 2 x 2 x 20 is at
# most 1,040 requests. The run took about 17 s on the project's 2-core machine.
EXAMPLES_PER_OPERATION = 20
# logOut would revoke the token that the rest of the run signs in with.
EXCLUDED_OPERATIONS = ["Mutation.logOut"]
ROLES = ("patient", "staff")

# Text that a Python exception, a traceback or a database error puts in a message.
UNMASKED_PATTERNS = [
    re.compile(pattern)
    for pattern in (
        r"Traceback \(most recent call last\)",
        r'File "[^"]+", line \d+',
        r"\b\w+(Error|Exception):",
        r"'NoneType' object",
        r"object has no attribute",
        r"object is not (subscriptable|callable|iterable)",
        r"positional arguments? but",
        r"unexpected keyword argument",
        r"invalid literal for int\(\)",
        r"index out of range",
        r"No GraphQL document available",
        r"\bSELECT\b.*\bFROM\b",
        r"\bINSERT INTO\b",
        r"\bUPDATE\b.*\bSET\b",
        r"\bDELETE FROM\b",
        r"(?i)sqlite|sqlalchemy|asyncpg|psycopg",
        r"constraint failed|no such (table|column)|database is locked",
        r"Background on this error",
    )
]


@dataclass(frozen=True)
class FuzzResponse:
    operation: str
    mode: str
    status: int
    query: str
    # The parsed JSON body, or None when the body is not JSON.
    body: Any
    text: str

    def errors(self) -> list[dict[str, Any]]:
        if not isinstance(self.body, dict):
            return []
        errors = self.body.get("errors") or []
        return [error for error in errors if isinstance(error, dict)]

    def describe(self, detail: str) -> str:
        return f"{self.operation} ({self.mode}) -> {self.status} {detail}\n  query: {self.query}"


def load_schema() -> BaseSchema:
    """Load the SDL that ``billing-gateway export-schema`` prints, without logOut."""
    exported = subprocess.run(
        [CLI, "export-schema"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=EXPORT_TIMEOUT_SECONDS,
    )
    return schemathesis.graphql.from_file(exported.stdout).exclude(name=EXCLUDED_OPERATIONS)


def fuzzed_operations(schema: BaseSchema) -> list[APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


def fuzz_operation(
    operation: APIOperation,
    mode: GenerationMode,
    session: requests.Session,
    endpoint: str,
    token: str,
) -> list[FuzzResponse]:
    """Send EXAMPLES_PER_OPERATION generated cases of ``operation`` and record each response."""
    recorded: list[FuzzResponse] = []

    # Generation only: nothing fails inside, so there is nothing to shrink.
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(FUZZ_SEED)
    @given(case=operation.as_strategy(generation_mode=mode))
    def send_case(case: Case) -> None:
        response = case.call(
            base_url=endpoint,
            session=session,
            headers={"Authorization": f"Bearer {token}"},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        recorded.append(
            FuzzResponse(
                operation=operation.label,
                mode=mode.value,
                status=response.status_code,
                query=str(case.body),
                body=body,
                text=response.text,
            )
        )

    send_case()
    return recorded


def fuzz_as(schema: BaseSchema, server: GatewayServer, token: str) -> list[FuzzResponse]:
    session = requests.Session()
    # Never route loopback traffic through a proxy from the environment.
    session.trust_env = False
    endpoint = f"{server.base_url}/graphql"
    recorded: list[FuzzResponse] = []
    with session:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for operation in fuzzed_operations(schema):
                recorded.extend(fuzz_operation(operation, mode, session, endpoint, token))
    return recorded


async def sign_in_roles(server: GatewayServer) -> dict[str, str]:
    """Return a token per role: a patient with invoices and a card, and a staff member."""
    async with open_graphql_client(server) as client:
        patient = await create_patient(client, server.database_url)
        await add_card(client, patient.token, VISA_CREDIT)
        staff = await create_staff(client, server.database_url)
    return {"patient": patient.token, "staff": staff.token}


@pytest.fixture(scope="module")
def fuzz_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    with configured_gateway(tmp_path_factory.mktemp("fuzz"), {}) as server:
        yield server


@pytest.fixture(scope="module")
def schema() -> BaseSchema:
    return load_schema()


@pytest.fixture(scope="module")
def fuzz_responses(
    fuzz_gateway: GatewayServer, schema: BaseSchema
) -> dict[str, list[FuzzResponse]]:
    # Module-scoped, so it runs its own event loop: pytest-asyncio closes
    # each test's loop when the test ends.
    tokens = asyncio.run(sign_in_roles(fuzz_gateway))
    return {role: fuzz_as(schema, fuzz_gateway, tokens[role]) for role in ROLES}


def unmasked(message: str) -> bool:
    return any(pattern.search(message) for pattern in UNMASKED_PATTERNS)


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_covers_every_operation(
    schema: BaseSchema, fuzz_responses: dict[str, list[FuzzResponse]], role: str
) -> None:
    expected = {operation.label for operation in fuzzed_operations(schema)}

    covered = {response.operation for response in fuzz_responses[role]}

    assert covered == expected


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_no_server_errors(fuzz_responses: dict[str, list[FuzzResponse]], role: str) -> None:
    failures = [
        response.describe(response.text[:300])
        for response in fuzz_responses[role]
        if response.status >= 500
    ]

    assert failures == []


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_no_unmasked_errors(fuzz_responses: dict[str, list[FuzzResponse]], role: str) -> None:
    failures = [
        response.describe(str(error.get("message")))
        for response in fuzz_responses[role]
        for error in response.errors()
        if unmasked(str(error.get("message")))
    ]

    assert failures == []


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_no_internal_errors(fuzz_responses: dict[str, list[FuzzResponse]], role: str) -> None:
    # A masked INTERNAL_ERROR still means an exception the gateway did not expect.
    failures = [
        response.describe(str(error.get("message")))
        for response in fuzz_responses[role]
        for error in response.errors()
        if (error.get("extensions") or {}).get("code") == "INTERNAL_ERROR"
    ]

    assert failures == []
