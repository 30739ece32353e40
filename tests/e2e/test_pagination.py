"""Relay pagination of a patient's connections."""

from __future__ import annotations

import pytest

from tests.e2e.accounts import PatientAccount
from tests.e2e.graphql_http import GraphQLClient

INVOICES_PAGE = """
query InvoicesPage($first: Int, $after: String) {
  me {
    invoices(first: $first, after: $after) {
      edges { cursor node { id dueOn } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""

OVERSIZED_PAGE = """
query OversizedPage($first: Int) {
  me {
    invoices(first: $first) { edges { node { id } } }
  }
}
"""

PAYMENTS_OVERSIZED_PAGE = """
query PaymentsOversizedPage($first: Int) {
  me {
    payments(first: $first) { edges { node { id } } }
  }
}
"""

APPOINTMENTS_OVERSIZED_PAGE = """
query AppointmentsOversizedPage($first: Int) {
  me {
    appointments(first: $first) { edges { node { id } } }
  }
}
"""

BAD_CURSOR_PAGE = """
query BadCursorPage($after: String) {
  me {
    invoices(first: 2, after: $after) { edges { node { id } } }
  }
}
"""


async def test_invoices_pages_without_overlap(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    first_page = await graphql.data(INVOICES_PAGE, {"first": 2}, token=patient.token)
    first = first_page["me"]["invoices"]

    second_page = await graphql.data(
        INVOICES_PAGE, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=patient.token
    )
    second = second_page["me"]["invoices"]

    first_ids = [edge["node"]["id"] for edge in first["edges"]]
    second_ids = [edge["node"]["id"] for edge in second["edges"]]
    newest_due_first = [invoice.global_id for invoice in reversed(patient.invoices)]
    assert len(first_ids) == 2
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    assert len(second_ids) == 1
    assert second["pageInfo"]["hasNextPage"] is False
    assert set(first_ids).isdisjoint(second_ids)
    assert first_ids + second_ids == newest_due_first


async def test_invoices_page_of_zero(graphql: GraphQLClient, patient: PatientAccount) -> None:
    data = await graphql.data(INVOICES_PAGE, {"first": 0}, token=patient.token)

    invoices = data["me"]["invoices"]
    assert invoices["edges"] == []
    assert invoices["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("connection", "query"),
    [
        ("invoices", OVERSIZED_PAGE),
        ("payments", PAYMENTS_OVERSIZED_PAGE),
        ("appointments", APPOINTMENTS_OVERSIZED_PAGE),
    ],
    ids=["invoices", "payments", "appointments"],
)
@pytest.mark.parametrize("first", [101, -1])
async def test_page_size_out_of_range_is_error(
    graphql: GraphQLClient, patient: PatientAccount, connection: str, query: str, first: int
) -> None:
    result = await graphql.execute(query, {"first": first}, token=patient.token)

    errors = result.get("errors") or []
    # The error nulls the connection, or ``me`` too when the connection is non-null.
    me = (result.get("data") or {}).get("me") or {}
    assert len(errors) == 1
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"
    assert errors[0]["extensions"]["field"] == "first"
    assert errors[0]["path"] == ["me", connection]
    assert me.get(connection) is None


async def test_invoices_page_of_100_allowed(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    data = await graphql.data(INVOICES_PAGE, {"first": 100}, token=patient.token)

    assert len(data["me"]["invoices"]["edges"]) == len(patient.invoices)
    assert data["me"]["invoices"]["pageInfo"]["hasNextPage"] is False


async def test_invalid_cursor_is_error(graphql: GraphQLClient, patient: PatientAccount) -> None:
    result = await graphql.execute(BAD_CURSOR_PAGE, {"after": "not-a-cursor"}, token=patient.token)

    errors = result.get("errors") or []
    assert len(errors) == 1
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"
    assert errors[0]["extensions"]["field"] == "after"
