"""Unexpected server errors: masked for the client, logged once with a traceback for support.

The trigger is corrupt data, as a bad migration or a manual edit would
leave it: an invoice line whose category is no LineCategory value, written
straight into the server's SQLite file. Reading that line makes SQLAlchemy
raise LookupError inside a resolver, which the gateway did not expect.
The suite runs its own gateway, so its log holds only these requests.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.accounts import create_patient
from tests.e2e.configured_server import configured_gateway
from tests.e2e.gateway_clients import open_graphql_client
from tests.e2e.server import GatewayServer

BOGUS_CATEGORY = "TELEPATHY"
# The exception's last traceback line, printed once per logged traceback.
EXCEPTION_LINE = f"LookupError: '{BOGUS_CATEGORY}' is not among the defined enum values"
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's own request id, in the form the gateway keeps (8 to 64 of [A-Za-z0-9._-]).
CLIENT_REQUEST_ID = "support-case-20260412"
LOG_DEADLINE_SECONDS = 5.0
LOG_POLL_SECONDS = 0.05
# A log record starts with the time, which the gateway's logging format puts
# first, or with a level on uvicorn's own lines. Traceback lines continue a record.
RECORD_START = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} |(DEBUG|INFO|WARNING|ERROR):)")

INVOICE_LINES = """
query InvoiceLines {
  me { invoices(first: 5) { edges { node { number lines { category } } } } }
}
"""

UNFINISHED_QUERY = "query Unfinished { me { name "


@dataclass(frozen=True)
class CapturedResponse:
    header_request_id: str | None
    body: dict[str, Any]


@dataclass(frozen=True)
class CorruptRead:
    """Responses to reads of the corrupt line, without and with a client's request id."""

    generated_id: CapturedResponse
    client_id: CapturedResponse


def database_path(server: GatewayServer) -> str:
    return server.database_url.removeprefix("sqlite+aiosqlite:///")


def corrupt_invoice_line(server: GatewayServer, invoice_db_id: int) -> None:
    """Give one line of the invoice a category outside LineCategory.

    The table's CHECK constraint rejects such a value, so this connection
    turns CHECK enforcement off first, as a hand edit of the file could.
    """
    connection = sqlite3.connect(database_path(server), timeout=10)
    try:
        connection.execute("PRAGMA ignore_check_constraints = ON")
        connection.execute(
            "UPDATE invoice_lines SET category = ? "
            "WHERE id = (SELECT min(id) FROM invoice_lines WHERE invoice_id = ?)",
            (BOGUS_CATEGORY, invoice_db_id),
        )
        connection.commit()
    finally:
        connection.close()


async def post_graphql(
    http: httpx.AsyncClient, query: str, headers: dict[str, str]
) -> CapturedResponse:
    response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, f"HTTP {response.status_code}: {response.text[:500]}"
    return CapturedResponse(response.headers.get(REQUEST_ID_HEADER), response.json())


async def read_corrupt_line(server: GatewayServer) -> CorruptRead:
    async with open_graphql_client(server) as client:
        patient = await create_patient(client, server.database_url)
        corrupt_invoice_line(server, patient.invoices[0].db_id)
        authorization = {"Authorization": f"Bearer {patient.token}"}
        generated = await post_graphql(client.http, INVOICE_LINES, authorization)
        supplied = await post_graphql(
            client.http,
            INVOICE_LINES,
            authorization | {REQUEST_ID_HEADER: CLIENT_REQUEST_ID},
        )
    return CorruptRead(generated_id=generated, client_id=supplied)


def log_records(log: str) -> list[str]:
    """Split the gateway's stderr into records, each with its traceback lines."""
    records: list[str] = []
    for line in log.splitlines():
        if RECORD_START.match(line) or not records:
            records.append(line)
        else:
            records[-1] += "\n" + line
    return records


def records_naming(server: GatewayServer, request_id: str) -> list[str]:
    """Return the log records whose first line names ``request_id``.

    The gateway writes a request's records before it sends the response, so
    polling only covers a slow write to the file.
    """
    deadline = time.monotonic() + LOG_DEADLINE_SECONDS
    while True:
        records = [
            record
            for record in log_records(server.read_stderr())
            if request_id in record.splitlines()[0]
        ]
        if records or time.monotonic() >= deadline:
            return records
        time.sleep(LOG_POLL_SECONDS)


def error_records_for(server: GatewayServer, request_id: str) -> list[str]:
    return [
        record
        for record in records_naming(server, request_id)
        if " ERROR " in record.splitlines()[0]
    ]


@pytest.fixture(scope="module")
def masking_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    with configured_gateway(tmp_path_factory.mktemp("masking"), {}) as server:
        yield server


@pytest.fixture(scope="module")
def corrupt_read(masking_gateway: GatewayServer) -> CorruptRead:
    # Module-scoped, so it runs its own event loop: pytest-asyncio closes
    # each test's loop when the test ends.
    return asyncio.run(read_corrupt_line(masking_gateway))


def only_error(response: CapturedResponse) -> dict[str, Any]:
    """Return the masked error, which each invoice's failed lines field repeats."""
    errors = response.body.get("errors") or []
    assert errors, "expected a masked error"
    distinct = {(error["message"], str(error.get("extensions"))) for error in errors}
    assert len(distinct) == 1, f"expected one distinct error, got {errors}"
    error: dict[str, Any] = errors[0]
    return error


def test_internal_error_message_masked(corrupt_read: CorruptRead) -> None:
    message = only_error(corrupt_read.generated_id)["message"]

    assert message.startswith("Internal error.")
    assert BOGUS_CATEGORY not in message
    assert "LookupError" not in message


def test_internal_error_code(corrupt_read: CorruptRead) -> None:
    extensions = only_error(corrupt_read.generated_id)["extensions"]

    assert extensions["code"] == "INTERNAL_ERROR"


def test_internal_error_extensions_exact(corrupt_read: CorruptRead) -> None:
    response = corrupt_read.generated_id
    extensions = only_error(response)["extensions"]

    assert set(extensions) == {"code", "requestId"}


def test_request_id_matches_header(corrupt_read: CorruptRead) -> None:
    response = corrupt_read.generated_id
    extensions = only_error(response)["extensions"]

    assert response.header_request_id
    assert extensions["requestId"] == response.header_request_id


def test_client_request_id_kept(corrupt_read: CorruptRead) -> None:
    response = corrupt_read.client_id
    extensions = only_error(response)["extensions"]

    assert response.header_request_id == CLIENT_REQUEST_ID
    assert extensions["requestId"] == CLIENT_REQUEST_ID


def test_other_fields_still_answered(corrupt_read: CorruptRead) -> None:
    body = corrupt_read.generated_id.body

    assert body["data"] is not None
    assert "me" in body["data"]


def test_log_has_one_error_record(
    masking_gateway: GatewayServer, corrupt_read: CorruptRead
) -> None:
    request_id = corrupt_read.generated_id.header_request_id
    assert request_id

    records = error_records_for(masking_gateway, request_id)

    assert len(records) == 1


def test_log_record_has_traceback(
    masking_gateway: GatewayServer, corrupt_read: CorruptRead
) -> None:
    request_id = corrupt_read.generated_id.header_request_id
    assert request_id

    records = error_records_for(masking_gateway, request_id)

    assert records
    assert "Traceback (most recent call last)" in records[0]
    assert records[0].count(EXCEPTION_LINE) == 1


def test_log_traceback_written_once_per_request(
    masking_gateway: GatewayServer, corrupt_read: CorruptRead
) -> None:
    # Two requests read the corrupt line, so the log contains exactly two tracebacks.
    records_naming(masking_gateway, CLIENT_REQUEST_ID)

    log = masking_gateway.read_stderr()

    assert log.count(EXCEPTION_LINE) == 2


def test_syntax_error_shown_to_client(masking_gateway: GatewayServer) -> None:
    with httpx.Client(base_url=masking_gateway.base_url, trust_env=False, timeout=15) as http:
        response = http.post("/graphql", json={"query": UNFINISHED_QUERY})
    errors = response.json()["errors"]

    assert len(errors) == 1
    assert errors[0]["message"].startswith("Syntax Error")


def test_syntax_error_not_logged_as_error(masking_gateway: GatewayServer) -> None:
    with httpx.Client(base_url=masking_gateway.base_url, trust_env=False, timeout=15) as http:
        response = http.post("/graphql", json={"query": UNFINISHED_QUERY})
    request_id = response.headers[REQUEST_ID_HEADER]

    records = error_records_for(masking_gateway, request_id)

    assert records == []
