"""The account commands: listing staff and keys, revoking twice, rejecting an empty scope."""

from __future__ import annotations

import pytest

from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.server import GatewayServer
from tests.e2e.staff_and_keys import create_partner_key, create_staff, run_cli


async def test_list_staff_shows_audit_actor(graphql: GraphQLClient, gateway: GatewayServer) -> None:
    staff = await create_staff(graphql, gateway.database_url, auditor=True)

    output = await run_cli(gateway.database_url, "list-staff")

    assert output.splitlines()[0] == "actor\tauditor\tstate\temail\tname"
    assert f"staff:{staff.db_id}\tyes\tactive\t{staff.email}\t" in output


async def test_revoking_twice_says_already_revoked(gateway: GatewayServer) -> None:
    key = await create_partner_key(gateway.database_url, "patients:read")

    first = await run_cli(gateway.database_url, "revoke-api-key", str(key.db_id))
    second = await run_cli(gateway.database_url, "revoke-api-key", str(key.db_id))

    assert first.startswith(f"Revoked API key {key.db_id} ")
    assert "was already revoked" in second


async def test_empty_scope_rejected(gateway: GatewayServer) -> None:
    with pytest.raises(RuntimeError, match=r"(?s)exited with 2.*--scope is empty"):
        await run_cli(gateway.database_url, "create-api-key", "--name", "Acme", "--scope", "")
