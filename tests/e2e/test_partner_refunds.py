"""Partner refunds need payments:write and payments:read together."""

from __future__ import annotations

from tests.e2e.accounts import (
    OUTCOME_STATUSES,
    VISA_CREDIT,
    PatientAccount,
    add_card,
    new_idempotency_key,
    pay_bill,
    wait_for_payment_status,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.server import GatewayServer
from tests.e2e.staff_and_keys import create_partner_key
from tests.e2e.staff_operations import REFUND_PAYMENT

REFUND_CENTS = 500


async def _refund_input(client: GraphQLClient, patient: PatientAccount) -> dict[str, object]:
    card = await add_card(client, patient.token, VISA_CREDIT)
    payment = await pay_bill(
        client, patient.token, payment_method_id=card["id"], amount_cents=REFUND_CENTS
    )
    await wait_for_payment_status(client, patient.token, payment["id"], OUTCOME_STATUSES)
    return {
        "paymentId": payment["id"],
        "amountCents": REFUND_CENTS,
        "reason": "Charged for a session that was canceled in time",
        "idempotencyKey": new_idempotency_key(),
    }


async def test_read_write_key_refunds(
    graphql: GraphQLClient, gateway: GatewayServer, patient: PatientAccount
) -> None:
    key = await create_partner_key(gateway.database_url, "payments:read", "payments:write")
    refund_input = await _refund_input(graphql, patient)

    result = await graphql.execute(REFUND_PAYMENT, {"input": refund_input}, token=key.key)
    payload = result["data"]["refundPayment"]
    refused_scopes = {error["extensions"]["scope"] for error in result.get("errors", [])}

    assert payload["userErrors"] == []
    assert payload["refund"]["status"] == "SUCCEEDED"
    assert payload["payment"]["status"] == "REFUNDED"
    # The allocations' invoices need patients:read; only that field is refused.
    assert refused_scopes == {"patients:read"}


async def test_write_only_key_cannot_probe(
    graphql: GraphQLClient, gateway: GatewayServer, patient: PatientAccount
) -> None:
    key = await create_partner_key(gateway.database_url, "payments:write")
    refund_input = await _refund_input(graphql, patient)
    refund_input["amountCents"] = 10**9

    data = await graphql.data(REFUND_PAYMENT, {"input": refund_input}, token=key.key)
    errors = data["refundPayment"]["userErrors"]

    assert [error["code"] for error in errors] == ["FORBIDDEN"]
    assert "payments:read" in errors[0]["message"]
    assert "CGH-" not in errors[0]["message"]
