"""The audit log: reads of a patient's records by staff and partners, and every change to money.

Each test works on a fresh patient and reads the log back, as an auditor,
filtered to that patient, so rows written by other suites do not mix in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.accounts import (
    VISA_CREDIT,
    PatientAccount,
    add_card,
    new_idempotency_key,
    pay_bill,
    wait_for_payment_status,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.graphql_ws import TRANSPORT_WS, subscribe
from tests.e2e.operations import PAYMENT_STATUS_CHANGED
from tests.e2e.server import GatewayServer
from tests.e2e.staff_and_keys import PartnerKey, StaffAccount, create_partner_key, create_staff
from tests.e2e.staff_operations import AUDIT_LOG, REFUND_PAYMENT

REQUEST_ID_HEADER = "X-Request-ID"
LOOPBACK_ADDRESS = "127.0.0.1"
PAYMENT_CENTS = 2_500
HTTP_TIMEOUT_SECONDS = 15.0

READ_PATIENT = """
query ReadPatient($id: ID!) {
  node(id: $id) { ... on Patient { id name email } }
}
"""

OWN_RECORDS = """
query OwnRecords($invoiceId: ID!) {
  me {
    balance { cents }
    invoices(first: 100) { edges { node { id } } }
    payments(first: 100) { edges { node { id } } }
    paymentMethods { id }
  }
  node(id: $invoiceId) { ... on Invoice { id lines { description } } }
}
"""

REMOVE_PAYMENT_METHOD = """
mutation RemovePaymentMethod($id: ID!) {
  removePaymentMethod(paymentMethodId: $id) {
    paymentMethod { id }
    userErrors { field code message }
  }
}
"""


@dataclass(frozen=True)
class Auditing:
    """A plain staff member, an auditor, and a partner key that may read patients."""

    staff: StaffAccount
    auditor: StaffAccount
    partner: PartnerKey


async def create_auditing(gateway: GatewayServer) -> Auditing:
    async with httpx.AsyncClient(
        base_url=gateway.base_url, trust_env=False, timeout=HTTP_TIMEOUT_SECONDS
    ) as http:
        client = GraphQLClient(http, gateway.secrets)
        staff, auditor, partner = await asyncio.gather(
            create_staff(client, gateway.database_url),
            create_staff(client, gateway.database_url, auditor=True),
            create_partner_key(gateway.database_url, "patients:read"),
        )
    gateway.secrets["token"].add(partner.key)
    return Auditing(staff=staff, auditor=auditor, partner=partner)


@pytest.fixture(scope="module")
def auditing(gateway: GatewayServer) -> Auditing:
    # The fixture is module-scoped, so it runs its own event loop because
    # pytest-asyncio closes each test's loop when the test ends.
    return asyncio.run(create_auditing(gateway))


async def post_operation(
    graphql: GraphQLClient, query: str, variables: Mapping[str, Any], token: str
) -> httpx.Response:
    """POST one operation and return the raw response, whose headers carry the request id."""
    response = await graphql.http.post(
        "/graphql",
        json={"query": query, "variables": dict(variables)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, f"POST /graphql returned {response.status_code}"
    assert response.json().get("errors") is None, f"unexpected errors: {response.json()}"
    return response


async def audit_rows(
    graphql: GraphQLClient, auditor: StaffAccount, patient: PatientAccount
) -> list[dict[str, Any]]:
    """Return the patient's audit rows, newest first, as the auditor reads them."""
    data = await graphql.data(AUDIT_LOG, {"patientId": patient.global_id}, token=auditor.token)
    return [edge["node"] for edge in data["auditLog"]["edges"]]


def rows_with_action(rows: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [row for row in rows if row["action"] == action]


async def test_staff_read_recorded(
    graphql: GraphQLClient, patient: PatientAccount, auditing: Auditing
) -> None:
    response = await post_operation(
        graphql, READ_PATIENT, {"id": patient.global_id}, auditing.staff.token
    )

    rows = rows_with_action(await audit_rows(graphql, auditing.auditor, patient), "READ")

    assert len(rows) == 1
    assert rows[0]["role"] == "STAFF"
    assert rows[0]["actor"] == auditing.staff.actor
    assert rows[0]["patientId"] == patient.global_id
    assert rows[0]["operation"] == "ReadPatient"
    assert rows[0]["requestId"] == response.headers.get(REQUEST_ID_HEADER)
    assert rows[0]["requestId"]
    assert rows[0]["clientAddress"] == LOOPBACK_ADDRESS


async def test_partner_read_recorded(
    graphql: GraphQLClient, patient: PatientAccount, auditing: Auditing
) -> None:
    response = await post_operation(
        graphql, READ_PATIENT, {"id": patient.global_id}, auditing.partner.key
    )

    rows = rows_with_action(await audit_rows(graphql, auditing.auditor, patient), "READ")

    assert len(rows) == 1
    assert rows[0]["role"] == "PARTNER"
    assert rows[0]["actor"] == auditing.partner.actor
    assert rows[0]["patientId"] == patient.global_id
    assert rows[0]["requestId"] == response.headers.get(REQUEST_ID_HEADER)
    assert rows[0]["clientAddress"] == LOOPBACK_ADDRESS


async def test_staff_subscription_read_recorded(
    graphql: GraphQLClient, gateway: GatewayServer, patient: PatientAccount, auditing: Auditing
) -> None:
    card = await add_card(graphql, patient.token, VISA_CREDIT)
    payment = await pay_bill(
        graphql, patient.token, payment_method_id=card["id"], amount_cents=PAYMENT_CENTS
    )

    result = await subscribe(
        gateway.ws_url,
        TRANSPORT_WS,
        PAYMENT_STATUS_CHANGED,
        {"paymentId": payment["id"]},
        token=auditing.staff.token,
    )
    rows = rows_with_action(await audit_rows(graphql, auditing.auditor, patient), "READ")

    assert result.errors == []
    assert result.events != []
    assert len(rows) == 1
    assert rows[0]["role"] == "STAFF"
    assert rows[0]["actor"] == auditing.staff.actor
    assert rows[0]["patientId"] == patient.global_id


async def test_patient_own_reads_not_recorded(
    graphql: GraphQLClient, patient: PatientAccount, auditing: Auditing
) -> None:
    await post_operation(
        graphql, OWN_RECORDS, {"invoiceId": patient.invoices[0].global_id}, patient.token
    )
    await post_operation(graphql, READ_PATIENT, {"id": patient.global_id}, patient.token)

    rows = await audit_rows(graphql, auditing.auditor, patient)

    assert rows_with_action(rows, "READ") == []


async def test_pay_bill_recorded(
    graphql: GraphQLClient, patient: PatientAccount, auditing: Auditing
) -> None:
    card = await add_card(graphql, patient.token, VISA_CREDIT)

    payment = await pay_bill(
        graphql, patient.token, payment_method_id=card["id"], amount_cents=PAYMENT_CENTS
    )
    rows = rows_with_action(await audit_rows(graphql, auditing.auditor, patient), "PAYMENT_CREATED")

    assert len(rows) == 1
    assert rows[0]["role"] == "PATIENT"
    assert rows[0]["actor"] == f"patient:{patient.db_id}"
    assert rows[0]["operation"] == "payBill"
    assert rows[0]["paymentId"] == payment["id"]
    assert rows[0]["patientId"] == patient.global_id


async def test_add_payment_method_recorded(
    graphql: GraphQLClient, patient: PatientAccount, auditing: Auditing
) -> None:
    await add_card(graphql, patient.token, VISA_CREDIT)

    rows = rows_with_action(
        await audit_rows(graphql, auditing.auditor, patient), "PAYMENT_METHOD_ADDED"
    )

    assert len(rows) == 1
    assert rows[0]["role"] == "PATIENT"
    assert rows[0]["actor"] == f"patient:{patient.db_id}"
    assert rows[0]["operation"] == "addPaymentMethod"


async def test_remove_payment_method_recorded(
    graphql: GraphQLClient, patient: PatientAccount, auditing: Auditing
) -> None:
    card = await add_card(graphql, patient.token, VISA_CREDIT)

    data = await graphql.data(REMOVE_PAYMENT_METHOD, {"id": card["id"]}, token=patient.token)
    rows = rows_with_action(
        await audit_rows(graphql, auditing.auditor, patient), "PAYMENT_METHOD_REMOVED"
    )

    assert data["removePaymentMethod"]["userErrors"] == []
    assert len(rows) == 1
    assert rows[0]["actor"] == f"patient:{patient.db_id}"
    assert rows[0]["operation"] == "removePaymentMethod"


async def test_refund_recorded(
    graphql: GraphQLClient, patient: PatientAccount, auditing: Auditing
) -> None:
    card = await add_card(graphql, patient.token, VISA_CREDIT)
    payment = await pay_bill(
        graphql, patient.token, payment_method_id=card["id"], amount_cents=PAYMENT_CENTS
    )
    await wait_for_payment_status(graphql, patient.token, payment["id"], frozenset({"SUCCEEDED"}))
    refund_input = {
        "paymentId": payment["id"],
        "reason": "Session canceled by the practice",
        "idempotencyKey": new_idempotency_key(),
    }

    data = await graphql.data(REFUND_PAYMENT, {"input": refund_input}, token=auditing.staff.token)
    rows = rows_with_action(await audit_rows(graphql, auditing.auditor, patient), "REFUND_CREATED")

    assert data["refundPayment"]["userErrors"] == []
    assert len(rows) == 1
    assert rows[0]["role"] == "STAFF"
    assert rows[0]["actor"] == auditing.staff.actor
    assert rows[0]["operation"] == "refundPayment"
    assert rows[0]["paymentId"] == payment["id"]
    assert rows[0]["patientId"] == patient.global_id


async def test_auditor_reads_audit_log(
    graphql: GraphQLClient, patient: PatientAccount, auditing: Auditing
) -> None:
    await add_card(graphql, patient.token, VISA_CREDIT)

    result = await graphql.execute(
        AUDIT_LOG, {"patientId": patient.global_id}, token=auditing.auditor.token
    )

    assert result.get("errors") is None
    assert result["data"]["auditLog"]["edges"] != []


async def test_plain_staff_audit_log_forbidden(
    graphql: GraphQLClient, patient: PatientAccount, auditing: Auditing
) -> None:
    result = await graphql.execute(
        AUDIT_LOG, {"patientId": patient.global_id}, token=auditing.staff.token
    )

    assert result["data"] is None
    assert [error["extensions"]["code"] for error in result["errors"]] == ["FORBIDDEN"]
