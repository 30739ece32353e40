"""GraphQL clients for gateways that suites start themselves, beside the session-wide one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.server import GatewayServer

HTTP_TIMEOUT_SECONDS = 15.0


@asynccontextmanager
async def open_graphql_client(server: GatewayServer) -> AsyncIterator[GraphQLClient]:
    """Open a client on ``server`` that records the secrets it carries in ``server.secrets``."""
    async with httpx.AsyncClient(
        base_url=server.base_url, trust_env=False, timeout=HTTP_TIMEOUT_SECONDS
    ) as http:
        yield GraphQLClient(http, server.secrets)
