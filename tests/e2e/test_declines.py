"""Declined cards and returned ACH debits: the payment fails and owes nothing back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.accounts import (
    ACH_ACCOUNT_CLOSED,
    OUTCOME_STATUSES,
    VISA_DECLINED,
    VISA_INSUFFICIENT_FUNDS,
    PatientAccount,
    add_bank_account,
    add_card,
    fetch_account_summary,
    fetch_payment,
    pay_bill,
    wait_for_payment_status,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.graphql_ws import TRANSPORT_WS, subscribe
from tests.e2e.operations import PAYMENT_STATUS_CHANGED
from tests.e2e.server import GatewayServer

PARTIAL_AMOUNT_CENTS = 15_000
FAILURE_STATUSES = ["PENDING", "PROCESSING", "FAILED"]
FAILURE_DEADLINE_SECONDS = 10.0


@dataclass(frozen=True)
class DeclineCase:
    name: str
    method_type: str
    number: str
    failure_code: str


DECLINE_CASES = [
    pytest.param(case, id=case.name)
    for case in (
        DeclineCase("card-declined", "CREDIT_CARD", VISA_DECLINED, "CARD_DECLINED"),
        DeclineCase(
            "card-insufficient-funds", "CREDIT_CARD", VISA_INSUFFICIENT_FUNDS, "INSUFFICIENT_FUNDS"
        ),
        DeclineCase("ach-account-closed", "ACH", ACH_ACCOUNT_CLOSED, "ACCOUNT_CLOSED"),
    )
]


async def add_declining_method(
    client: GraphQLClient, token: str, case: DeclineCase
) -> dict[str, Any]:
    if case.method_type == "ACH":
        return await add_bank_account(client, token, case.number)
    return await add_card(client, token, case.number, case.method_type)


def amounts_due(summary: dict[str, Any]) -> dict[str, int]:
    return {
        edge["node"]["id"]: edge["node"]["amountDue"]["cents"]
        for edge in summary["invoices"]["edges"]
    }


@pytest.mark.parametrize("case", DECLINE_CASES)
async def test_declined_payment_ends_failed(
    graphql: GraphQLClient, gateway: GatewayServer, patient: PatientAccount, case: DeclineCase
) -> None:
    method = await add_declining_method(graphql, patient.token, case)
    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=PARTIAL_AMOUNT_CENTS
    )

    result = await subscribe(
        gateway.ws_url,
        TRANSPORT_WS,
        PAYMENT_STATUS_CHANGED,
        {"paymentId": payment["id"]},
        token=patient.token,
    )
    failed = await fetch_payment(graphql, patient.token, payment["id"])

    statuses = [event["paymentStatusChanged"]["status"] for event in result.events]
    assert result.errors == []
    assert statuses == FAILURE_STATUSES
    assert result.completed
    assert failed["status"] == "FAILED"
    assert failed["failureCode"] == case.failure_code
    assert failed["failureReason"]
    assert failed["settledAt"] is None


@pytest.mark.parametrize("case", DECLINE_CASES)
async def test_declined_payment_leaves_balance_unchanged(
    graphql: GraphQLClient, patient: PatientAccount, case: DeclineCase
) -> None:
    method = await add_declining_method(graphql, patient.token, case)
    before = await fetch_account_summary(graphql, patient.token)

    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=PARTIAL_AMOUNT_CENTS
    )
    failed = await wait_for_payment_status(
        graphql,
        patient.token,
        payment["id"],
        OUTCOME_STATUSES,
        deadline_seconds=FAILURE_DEADLINE_SECONDS,
    )
    after = await fetch_account_summary(graphql, patient.token)

    assert failed["status"] == "FAILED"
    assert failed["allocations"] == []
    assert failed["credited"]["cents"] == 0
    assert after["balance"]["cents"] == before["balance"]["cents"]
    assert after["balance"]["cents"] == patient.balance_cents
    assert amounts_due(after) == amounts_due(before)
