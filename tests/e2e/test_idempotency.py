"""Idempotency keys and concurrent payBill requests against one patient's balance."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.e2e.accounts import (
    OUTCOME_STATUSES,
    VISA_CREDIT,
    PatientAccount,
    add_card,
    create_patient,
    fetch_account_summary,
    fetch_balance_cents,
    fetch_payment,
    new_idempotency_key,
    request_pay_bill,
    wait_for_payment_status,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.server import GatewayServer

AMOUNT_CENTS = 5_000
CONCURRENT_RETRIES = 20
SETTLE_DEADLINE_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.02


async def test_same_key_returns_same_payment(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    key = new_idempotency_key()

    first = await request_pay_bill(
        graphql,
        patient.token,
        payment_method_id=method["id"],
        idempotency_key=key,
        amount_cents=AMOUNT_CENTS,
    )
    retry = await request_pay_bill(
        graphql,
        patient.token,
        payment_method_id=method["id"],
        idempotency_key=key,
        amount_cents=AMOUNT_CENTS,
    )
    summary = await fetch_account_summary(graphql, patient.token)

    assert first["userErrors"] == []
    assert retry["userErrors"] == []
    assert retry["payment"]["id"] == first["payment"]["id"]
    assert retry["payment"]["confirmationNumber"] == first["payment"]["confirmationNumber"]
    assert len(summary["payments"]["edges"]) == 1
    assert summary["balance"]["cents"] == patient.balance_cents - AMOUNT_CENTS


@pytest.mark.parametrize("change", ["amount", "method", "invoices"])
async def test_same_key_different_request_rejected(
    graphql: GraphQLClient, patient: PatientAccount, change: str
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    other_method = await add_card(graphql, patient.token, VISA_CREDIT)
    key = new_idempotency_key()
    first = await request_pay_bill(
        graphql,
        patient.token,
        payment_method_id=method["id"],
        idempotency_key=key,
        amount_cents=AMOUNT_CENTS,
    )
    changed_request: dict[str, Any] = {
        "payment_method_id": method["id"],
        "amount_cents": AMOUNT_CENTS,
    }
    if change == "amount":
        changed_request["amount_cents"] = AMOUNT_CENTS + 100
    elif change == "method":
        changed_request["payment_method_id"] = other_method["id"]
    else:
        changed_request["invoice_ids"] = [patient.invoices[-1].global_id]

    reused = await request_pay_bill(graphql, patient.token, idempotency_key=key, **changed_request)
    summary = await fetch_account_summary(graphql, patient.token)

    assert first["userErrors"] == []
    assert reused["payment"] is None
    assert [error["code"] for error in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert reused["userErrors"][0]["field"] == "idempotencyKey"
    assert [edge["node"]["id"] for edge in summary["payments"]["edges"]] == [first["payment"]["id"]]


async def test_concurrent_retries_create_one_payment(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    key = new_idempotency_key()

    payloads = await asyncio.gather(
        *(
            request_pay_bill(
                graphql,
                patient.token,
                payment_method_id=method["id"],
                idempotency_key=key,
                amount_cents=AMOUNT_CENTS,
            )
            for _ in range(CONCURRENT_RETRIES)
        )
    )
    summary = await fetch_account_summary(graphql, patient.token)

    errors = [payload["userErrors"] for payload in payloads if payload["userErrors"]]
    payments = [payload["payment"] for payload in payloads if payload["payment"] is not None]
    payment_ids = {payment["id"] for payment in payments}
    assert errors == []
    assert len(payments) == CONCURRENT_RETRIES
    assert len(payment_ids) == 1
    assert [edge["node"]["id"] for edge in summary["payments"]["edges"]] == list(payment_ids)
    assert summary["balance"]["cents"] == patient.balance_cents - AMOUNT_CENTS


async def watch_balance_until_settled(
    client: GraphQLClient, token: str, payment_id: str
) -> tuple[dict[str, Any], list[int]]:
    """Poll a payment until its outcome, reading the balance on every round.

    Returns the settled payment and every balance seen on the way.
    """
    balances: list[int] = []
    deadline = time.monotonic() + SETTLE_DEADLINE_SECONDS
    while True:
        payment = await fetch_payment(client, token, payment_id)
        balances.append(await fetch_balance_cents(client, token))
        if payment["status"] in OUTCOME_STATUSES:
            return payment, balances
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"payment {payment_id} still {payment['status']} after {SETTLE_DEADLINE_SECONDS} s"
            )
        await asyncio.sleep(POLL_INTERVAL_SECONDS)


async def test_concurrent_full_payments_one_wins(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    balance = await fetch_balance_cents(graphql, patient.token)

    payloads = await asyncio.gather(
        *(
            request_pay_bill(
                graphql, patient.token, payment_method_id=method["id"], amount_cents=balance
            )
            for _ in range(2)
        )
    )
    winners = [payload["payment"] for payload in payloads if payload["payment"] is not None]
    error_codes = [error["code"] for payload in payloads for error in payload["userErrors"]]
    assert len(winners) == 1
    settled, observed_balances = await watch_balance_until_settled(
        graphql, patient.token, winners[0]["id"]
    )
    final_balance = await fetch_balance_cents(graphql, patient.token)

    assert balance == patient.balance_cents
    assert error_codes == ["AMOUNT_EXCEEDS_BALANCE"]
    assert settled["status"] == "SUCCEEDED"
    assert min(observed_balances) >= 0
    assert final_balance == 0


async def test_retry_after_success_charges_once(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    key = new_idempotency_key()
    first = await request_pay_bill(
        graphql,
        patient.token,
        payment_method_id=method["id"],
        idempotency_key=key,
        amount_cents=AMOUNT_CENTS,
    )
    await wait_for_payment_status(graphql, patient.token, first["payment"]["id"], OUTCOME_STATUSES)

    retry = await request_pay_bill(
        graphql,
        patient.token,
        payment_method_id=method["id"],
        idempotency_key=key,
        amount_cents=AMOUNT_CENTS,
    )
    summary = await fetch_account_summary(graphql, patient.token)

    assert retry["userErrors"] == []
    assert retry["payment"]["id"] == first["payment"]["id"]
    assert retry["payment"]["status"] == "SUCCEEDED"
    assert len(summary["payments"]["edges"]) == 1
    assert summary["balance"]["cents"] == patient.balance_cents - AMOUNT_CENTS


async def test_key_scoped_to_patient(
    graphql: GraphQLClient, gateway: GatewayServer, patient: PatientAccount
) -> None:
    other = await create_patient(graphql, gateway.database_url)
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    other_method = await add_card(graphql, other.token, VISA_CREDIT)
    key = new_idempotency_key()

    mine = await request_pay_bill(
        graphql,
        patient.token,
        payment_method_id=method["id"],
        idempotency_key=key,
        amount_cents=AMOUNT_CENTS,
    )
    theirs = await request_pay_bill(
        graphql,
        other.token,
        payment_method_id=other_method["id"],
        idempotency_key=key,
        amount_cents=AMOUNT_CENTS,
    )

    assert mine["userErrors"] == []
    assert theirs["userErrors"] == []
    assert theirs["payment"]["id"] != mine["payment"]["id"]
    assert theirs["payment"]["method"]["id"] == other_method["id"]
