"""Successful card and ACH payments, watched live over both WebSocket protocols."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.accounts import (
    ACH_SETTLES,
    OUTCOME_STATUSES,
    TEST_BANK_NAME,
    VISA_CREDIT,
    VISA_DEBIT,
    PatientAccount,
    add_bank_account,
    add_card,
    fetch_account_summary,
    fetch_balance_cents,
    pay_bill,
    wait_for_payment_status,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.graphql_ws import LEGACY_WS, TRANSPORT_WS, subscribe
from tests.e2e.operations import PAYMENT_STATUS_CHANGED
from tests.e2e.server import GatewayServer

# $150.00 covers the oldest invoice ($120.00) and $30.00 of the next ($45.00).
PARTIAL_AMOUNT_CENTS = 15_000
SUCCESS_STATUSES = ["PENDING", "PROCESSING", "SUCCEEDED"]
ACH_SETTLE_DEADLINE_SECONDS = 10.0

INVOICE_AMOUNTS = """
query InvoiceAmounts($id: ID!) {
  node(id: $id) {
    ... on Invoice { status amountDue { cents } amountPending { cents } amountPaid { cents } }
  }
}
"""


@dataclass(frozen=True)
class MethodCase:
    """A sandbox payment method that succeeds, and what the API shows for it."""

    name: str
    method_type: str
    number: str
    brand: str | None
    last4: str
    funding: str | None
    bank_name: str | None


CREDIT_CARD = MethodCase("credit", "CREDIT_CARD", VISA_CREDIT, "Visa", "4242", "CREDIT", None)
DEBIT_CARD = MethodCase("debit", "DEBIT_CARD", VISA_DEBIT, "Visa", "5556", "DEBIT", None)
ACH = MethodCase("ach", "ACH", ACH_SETTLES, None, "6789", None, TEST_BANK_NAME)
METHOD_CASES = [pytest.param(case, id=case.name) for case in (CREDIT_CARD, DEBIT_CARD, ACH)]


async def add_method(client: GraphQLClient, token: str, case: MethodCase) -> dict[str, Any]:
    if case.method_type == "ACH":
        return await add_bank_account(client, token, case.number)
    return await add_card(client, token, case.number, case.method_type)


def event_fields(events: list[dict[str, Any]], field: str) -> list[Any]:
    return [event["paymentStatusChanged"][field] for event in events]


@pytest.mark.parametrize(
    ("case", "protocol"),
    [
        pytest.param(CREDIT_CARD, TRANSPORT_WS, id="credit-transport-ws"),
        pytest.param(CREDIT_CARD, LEGACY_WS, id="credit-legacy-ws"),
        pytest.param(DEBIT_CARD, TRANSPORT_WS, id="debit-transport-ws"),
        pytest.param(ACH, LEGACY_WS, id="ach-legacy-ws"),
    ],
)
async def test_payment_events_arrive_in_order(
    graphql: GraphQLClient,
    gateway: GatewayServer,
    patient: PatientAccount,
    case: MethodCase,
    protocol: str,
) -> None:
    method = await add_method(graphql, patient.token, case)
    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=PARTIAL_AMOUNT_CENTS
    )

    result = await subscribe(
        gateway.ws_url,
        protocol,
        PAYMENT_STATUS_CHANGED,
        {"paymentId": payment["id"]},
        token=patient.token,
    )

    assert result.errors == []
    assert event_fields(result.events, "status") == SUCCESS_STATUSES
    assert event_fields(result.events, "sequence") == [1, 2, 3]
    assert set(event_fields(result.events, "paymentId")) == {payment["id"]}
    assert all(event_fields(result.events, "message"))
    assert event_fields(result.events, "occurredAt") == sorted(
        event_fields(result.events, "occurredAt")
    )
    assert result.completed


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_late_subscriber_receives_all_events(
    graphql: GraphQLClient, gateway: GatewayServer, patient: PatientAccount, protocol: str
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=PARTIAL_AMOUNT_CENTS
    )
    await wait_for_payment_status(graphql, patient.token, payment["id"], OUTCOME_STATUSES)

    result = await subscribe(
        gateway.ws_url,
        protocol,
        PAYMENT_STATUS_CHANGED,
        {"paymentId": payment["id"]},
        token=patient.token,
    )

    assert result.errors == []
    assert event_fields(result.events, "status") == SUCCESS_STATUSES
    assert event_fields(result.events, "sequence") == [1, 2, 3]
    assert result.completed


@pytest.mark.parametrize("case", METHOD_CASES)
async def test_payment_details_present_at_creation(
    graphql: GraphQLClient, patient: PatientAccount, case: MethodCase
) -> None:
    method = await add_method(graphql, patient.token, case)

    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=PARTIAL_AMOUNT_CENTS
    )

    assert payment["methodType"] == case.method_type
    assert payment["method"]["id"] == method["id"]
    assert payment["method"]["methodType"] == case.method_type
    assert payment["method"]["brand"] == case.brand
    assert payment["method"]["last4"] == case.last4
    assert payment["method"]["funding"] == case.funding
    assert payment["method"]["bankName"] == case.bank_name
    assert payment["confirmationNumber"]
    assert payment["statementDescriptor"]
    assert len(payment["statementDescriptor"]) <= 22
    assert payment["amount"] == {"cents": PARTIAL_AMOUNT_CENTS, "currency": "USD"}
    assert payment["status"] in {"PENDING", "PROCESSING"}


async def test_statement_descriptor_names_no_care(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)

    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=PARTIAL_AMOUNT_CENTS
    )

    descriptor = payment["statementDescriptor"].upper()
    assert "THERAP" not in descriptor
    assert "PSYCH" not in descriptor
    assert "MENTAL" not in descriptor
    code = payment["confirmationNumber"].split("-")[1]
    assert descriptor.endswith(code)


@pytest.mark.parametrize("case", METHOD_CASES)
async def test_allocations_sum_to_amount(
    graphql: GraphQLClient, patient: PatientAccount, case: MethodCase
) -> None:
    method = await add_method(graphql, patient.token, case)

    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=PARTIAL_AMOUNT_CENTS
    )

    allocated = [allocation["amount"]["cents"] for allocation in payment["allocations"]]
    assert sum(allocated) == PARTIAL_AMOUNT_CENTS
    assert payment["credited"]["cents"] == 0


async def test_allocation_pays_oldest_due_first(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    oldest, second, _newest = patient.invoices
    method = await add_card(graphql, patient.token, VISA_CREDIT)

    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=PARTIAL_AMOUNT_CENTS
    )

    applied = [
        (allocation["invoice"]["id"], allocation["amount"]["cents"])
        for allocation in payment["allocations"]
    ]
    assert applied == [
        (oldest.global_id, oldest.total_cents),
        (second.global_id, PARTIAL_AMOUNT_CENTS - oldest.total_cents),
    ]


@pytest.mark.parametrize("case", METHOD_CASES)
async def test_balance_drops_by_amount(
    graphql: GraphQLClient, patient: PatientAccount, case: MethodCase
) -> None:
    method = await add_method(graphql, patient.token, case)
    before = await fetch_balance_cents(graphql, patient.token)

    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=PARTIAL_AMOUNT_CENTS
    )
    while_in_flight = await fetch_balance_cents(graphql, patient.token)
    settled = await wait_for_payment_status(
        graphql,
        patient.token,
        payment["id"],
        OUTCOME_STATUSES,
        deadline_seconds=ACH_SETTLE_DEADLINE_SECONDS,
    )
    after = await fetch_balance_cents(graphql, patient.token)

    assert before == patient.balance_cents
    assert while_in_flight == before - PARTIAL_AMOUNT_CENTS
    assert settled["status"] == "SUCCEEDED"
    assert settled["settledAt"] is not None
    assert after == before - PARTIAL_AMOUNT_CENTS


async def test_paid_invoice_marked_paid(graphql: GraphQLClient, patient: PatientAccount) -> None:
    oldest = patient.invoices[0]
    method = await add_card(graphql, patient.token, VISA_CREDIT)

    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=oldest.total_cents
    )
    await wait_for_payment_status(graphql, patient.token, payment["id"], OUTCOME_STATUSES)
    data = await graphql.data(INVOICE_AMOUNTS, {"id": oldest.global_id}, token=patient.token)

    invoice = data["node"]
    assert invoice["status"] == "PAID"
    assert invoice["amountDue"]["cents"] == 0
    assert invoice["amountPending"]["cents"] == 0
    assert invoice["amountPaid"]["cents"] == oldest.total_cents


async def test_ach_processing_after_pay_bill(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    oldest = patient.invoices[0]
    method = await add_bank_account(graphql, patient.token, ACH_SETTLES)

    payment = await pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=oldest.total_cents
    )
    summary = await fetch_account_summary(graphql, patient.token)
    invoice = await graphql.data(INVOICE_AMOUNTS, {"id": oldest.global_id}, token=patient.token)

    assert payment["status"] == "PROCESSING"
    assert payment["expectedSettlementOn"] is not None
    assert payment["settledAt"] is None
    assert [edge["node"]["status"] for edge in summary["payments"]["edges"]] == ["PROCESSING"]
    assert invoice["node"]["status"] == "OPEN"
    assert invoice["node"]["amountPending"]["cents"] == oldest.total_cents
    assert invoice["node"]["amountDue"]["cents"] == 0
    assert invoice["node"]["amountPaid"]["cents"] == 0


async def test_omitted_amount_pays_whole_balance(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)

    payment = await pay_bill(graphql, patient.token, payment_method_id=method["id"])
    await wait_for_payment_status(graphql, patient.token, payment["id"], OUTCOME_STATUSES)
    after = await fetch_balance_cents(graphql, patient.token)

    assert payment["amount"]["cents"] == patient.balance_cents
    assert len(payment["allocations"]) == len(patient.invoices)
    assert after == 0
