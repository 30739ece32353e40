"""Batched HTTP requests: each operation is executed and audited as if sent alone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from db.engine import create_engine, create_session_factory
from db.models import AuditEvent
from tests.e2e.accounts import PatientAccount, create_patient
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.server import GatewayServer
from tests.e2e.staff_and_keys import create_staff

PATIENT_WITH_INVOICES = """
query PatientWithInvoices($id: ID!) {
  node(id: $id) { ... on Patient { name invoices(first: 5) { edges { node { number } } } } }
}
"""
SUBSCRIPTION_OVER_HTTP = "subscription { paymentEvents { sequence } }"
BATCH_SIZE = 8
# Operations of a batch run concurrently; several batches make a lost row likely to show.
REPEATS = 4


async def _audited_reads(database_url: str, staff_db_id: int) -> dict[int, int]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            rows = await session.execute(
                select(AuditEvent.patient_id, func.count())
                .where(AuditEvent.actor == f"staff:{staff_db_id}", AuditEvent.action == "READ")
                .group_by(AuditEvent.patient_id)
            )
            return {patient_id: count for patient_id, count in rows}
    finally:
        await engine.dispose()


async def test_batch_reads_each_audited(graphql: GraphQLClient, gateway: GatewayServer) -> None:
    patients: list[PatientAccount] = [
        await create_patient(graphql, gateway.database_url) for _ in range(BATCH_SIZE)
    ]
    staff = await create_staff(graphql, gateway.database_url)
    body = [
        {"query": PATIENT_WITH_INVOICES, "variables": {"id": patient.global_id}}
        for patient in patients
    ]

    results: list[dict[str, Any]] = []
    for _ in range(REPEATS):
        response = await graphql.http.post(
            "/graphql", json=body, headers={"authorization": f"Bearer {staff.token}"}
        )
        results += response.json()
    audited = await _audited_reads(gateway.database_url, staff.db_id)

    assert [result.get("errors") for result in results] == [None] * BATCH_SIZE * REPEATS
    assert all(result["data"]["node"]["invoices"]["edges"] for result in results)
    assert audited == {patient.db_id: REPEATS for patient in patients}


async def test_subscription_over_http_rejected(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    result = await graphql.execute(SUBSCRIPTION_OVER_HTTP, token=patient.token)

    assert result["data"] is None
    assert result["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
