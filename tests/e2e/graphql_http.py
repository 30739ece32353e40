"""A GraphQL-over-HTTP client that records the secrets it sends and receives."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import httpx

# Input fields whose values must never appear in the server's logs.
SECRET_INPUT_FIELDS = frozenset({"password", "number", "accountNumber"})
# Response fields whose values must never appear in the server's logs.
SECRET_OUTPUT_FIELDS = frozenset({"token"})
# Shorter values (a weak password such as "abc") would match ordinary log text.
MIN_SECRET_LENGTH = 8


# Secret values seen so far, by the name of the field that carried them.
SecretsByField = defaultdict[str, set[str]]


def collect_secrets(value: Any, field_names: frozenset[str], found: SecretsByField) -> None:
    """Add to ``found`` each long enough string stored under one of ``field_names``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in field_names and isinstance(item, str) and len(item) >= MIN_SECRET_LENGTH:
                found[key].add(item)
            else:
                collect_secrets(item, field_names, found)
    elif isinstance(value, list):
        for item in value:
            collect_secrets(item, field_names, found)


class UnexpectedGraphQLErrors(AssertionError):
    """Raised when a response that should have no errors has some."""


class GraphQLClient:
    """Posts ``{"query", "variables"}`` to /graphql, optionally with a bearer token."""

    def __init__(self, http: httpx.AsyncClient, secrets: SecretsByField) -> None:
        self.http = http
        self.secrets = secrets

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one operation and return the whole response body (``data`` and ``errors``)."""
        request_headers = dict(headers or {})
        if token is not None:
            request_headers["Authorization"] = f"Bearer {token}"
        body = {"query": query, "variables": dict(variables or {})}
        collect_secrets(body["variables"], SECRET_INPUT_FIELDS, self.secrets)

        response = await self.http.post("/graphql", json=body, headers=request_headers)

        assert response.status_code == 200, (
            f"POST /graphql returned HTTP {response.status_code}: {response.text[:500]}"
        )
        result: dict[str, Any] = response.json()
        collect_secrets(result.get("data"), SECRET_OUTPUT_FIELDS, self.secrets)
        return result

    async def data(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Send one operation and return its ``data``.

        Raises UnexpectedGraphQLErrors if the response has errors.
        """
        result = await self.execute(query, variables, token=token)
        if result.get("errors"):
            raise UnexpectedGraphQLErrors(f"unexpected GraphQL errors: {result['errors']}")
        data: dict[str, Any] = result["data"]
        return data
