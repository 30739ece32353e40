"""Malformed HTTP requests get a JSON error with status 400, never a server error."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.server import GatewayServer

MALFORMED_BODIES = {
    "number": b"5",
    "list of numbers": b"[1, 2]",
    "string": b'"query"',
    "truncated object": b'{"query": "{ me { name } }"',
}


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_body_rejected_as_json(gateway: GatewayServer, body: bytes) -> None:
    with httpx.Client(base_url=gateway.base_url, trust_env=False, timeout=10) as client:
        response = client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
