"""Fixtures for the end-to-end suites: one real gateway process for the whole session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.accounts import PatientAccount, create_patient
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.server import GatewayServer, start_gateway, stop_gateway

E2E_DIR = Path(__file__).resolve().parent
# Runs after every other test, because it checks the log the whole session wrote.
LOG_SUITE = "test_server_logs.py"
HTTP_TIMEOUT_SECONDS = 15.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the suites in this folder e2e and move the log suite to the end of the run."""
    in_folder = [item for item in items if E2E_DIR in item.path.parents]
    for item in in_folder:
        item.add_marker(pytest.mark.e2e)
    log_items = [item for item in in_folder if item.path.name == LOG_SUITE]
    for item in log_items:
        items.remove(item)
    items.extend(log_items)


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    """A migrated, empty gateway serving on a free 127.0.0.1 port until the session ends."""
    server = start_gateway(tmp_path_factory.mktemp("gateway"))
    try:
        yield server
    finally:
        stop_gateway(server)


@pytest.fixture
async def graphql(gateway: GatewayServer) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(
        base_url=gateway.base_url, trust_env=False, timeout=HTTP_TIMEOUT_SECONDS
    ) as http:
        yield GraphQLClient(http, gateway.secrets)


@pytest.fixture
async def patient(graphql: GraphQLClient, gateway: GatewayServer) -> PatientAccount:
    """A newly signed-up patient with three open invoices totalling $195.00."""
    return await create_patient(graphql, gateway.database_url)
