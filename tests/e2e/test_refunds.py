"""Staff refunds: full and partial, what they do to invoices and balances, and the rejections.

Each test pays with a fresh patient's card, waits for the payment to
succeed, and refunds it as a staff member.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.e2e.accounts import (
    ACH_SETTLES,
    OUTCOME_STATUSES,
    VISA_CREDIT,
    VISA_DECLINED,
    PatientAccount,
    add_bank_account,
    add_card,
    fetch_payment,
    new_idempotency_key,
    pay_bill,
    wait_for_payment_status,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.server import GatewayServer
from tests.e2e.staff_and_keys import StaffAccount, create_staff
from tests.e2e.staff_operations import REFUND_PAYMENT

# $60.00 goes to the oldest invoice ($120.00), leaving it partly paid.
PAYMENT_CENTS = 6_000
PARTIAL_REFUND_CENTS = 2_000
REASON = "Billed twice for the same session"
CONCURRENT_REFUNDS = 2
HTTP_TIMEOUT_SECONDS = 15.0

REFUND_STATE = """
query RefundState($paymentId: ID!, $invoiceId: ID!) {
  payment: node(id: $paymentId) {
    ... on Payment {
      status
      amountRefunded { cents }
      allocations { amount { cents } invoice { id } }
    }
  }
  invoice: node(id: $invoiceId) {
    ... on Invoice { status amountDue { cents } }
  }
  me { balance { cents } }
}
"""


async def create_module_staff(gateway: GatewayServer) -> StaffAccount:
    async with httpx.AsyncClient(
        base_url=gateway.base_url, trust_env=False, timeout=HTTP_TIMEOUT_SECONDS
    ) as http:
        return await create_staff(GraphQLClient(http, gateway.secrets), gateway.database_url)


@pytest.fixture(scope="module")
def staff(gateway: GatewayServer) -> StaffAccount:
    # The fixture is module-scoped, so it runs its own event loop because
    # pytest-asyncio closes each test's loop when the test ends.
    return asyncio.run(create_module_staff(gateway))


async def paid_by_card(
    graphql: GraphQLClient, patient: PatientAccount, amount_cents: int = PAYMENT_CENTS
) -> str:
    """Pay ``amount_cents`` with a card that succeeds, wait for SUCCEEDED, return the payment id."""
    card = await add_card(graphql, patient.token, VISA_CREDIT)
    payment = await pay_bill(
        graphql, patient.token, payment_method_id=card["id"], amount_cents=amount_cents
    )
    settled = await wait_for_payment_status(graphql, patient.token, payment["id"], OUTCOME_STATUSES)
    assert settled["status"] == "SUCCEEDED", f"the payment to refund ended {settled['status']}"
    payment_id: str = payment["id"]
    return payment_id


async def refund(
    graphql: GraphQLClient,
    staff: StaffAccount,
    payment_id: str,
    *,
    amount_cents: int | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Send refundPayment as staff and return its payload, user errors included."""
    refund_input: dict[str, Any] = {
        "paymentId": payment_id,
        "reason": REASON,
        "idempotencyKey": idempotency_key or new_idempotency_key(),
    }
    if amount_cents is not None:
        refund_input["amountCents"] = amount_cents
    data = await graphql.data(REFUND_PAYMENT, {"input": refund_input}, token=staff.token)
    payload: dict[str, Any] = data["refundPayment"]
    return payload


async def fetch_state(
    graphql: GraphQLClient, patient: PatientAccount, payment_id: str
) -> dict[str, Any]:
    """Return the payment, the oldest invoice and the balance, read with the patient's token."""
    variables = {"paymentId": payment_id, "invoiceId": patient.invoices[0].global_id}
    return await graphql.data(REFUND_STATE, variables, token=patient.token)


def user_error_codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def test_partial_refund_status(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient)

    payload = await refund(graphql, staff, payment_id, amount_cents=PARTIAL_REFUND_CENTS)
    state = await fetch_state(graphql, patient, payment_id)

    assert payload["userErrors"] == []
    assert payload["refund"]["amount"]["cents"] == PARTIAL_REFUND_CENTS
    assert payload["refund"]["status"] == "SUCCEEDED"
    assert payload["refund"]["reason"] == REASON
    assert payload["payment"]["status"] == "PARTIALLY_REFUNDED"
    assert state["payment"]["status"] == "PARTIALLY_REFUNDED"
    assert state["payment"]["amountRefunded"]["cents"] == PARTIAL_REFUND_CENTS


async def test_remaining_refund_completes(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient)
    await refund(graphql, staff, payment_id, amount_cents=PARTIAL_REFUND_CENTS)

    payload = await refund(graphql, staff, payment_id)
    state = await fetch_state(graphql, patient, payment_id)

    assert payload["userErrors"] == []
    assert payload["refund"]["amount"]["cents"] == PAYMENT_CENTS - PARTIAL_REFUND_CENTS
    assert state["payment"]["status"] == "REFUNDED"
    assert state["payment"]["amountRefunded"]["cents"] == PAYMENT_CENTS


async def test_full_refund_status(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient)

    payload = await refund(graphql, staff, payment_id)
    state = await fetch_state(graphql, patient, payment_id)

    assert payload["userErrors"] == []
    assert payload["refund"]["amount"]["cents"] == PAYMENT_CENTS
    assert payload["payment"]["status"] == "REFUNDED"
    assert state["payment"]["status"] == "REFUNDED"
    assert state["payment"]["amountRefunded"]["cents"] == PAYMENT_CENTS


async def test_refund_adds_negative_allocation(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient)
    invoice_id = patient.invoices[0].global_id

    await refund(graphql, staff, payment_id, amount_cents=PARTIAL_REFUND_CENTS)
    state = await fetch_state(graphql, patient, payment_id)

    allocations = state["payment"]["allocations"]
    negative = {"amount": {"cents": -PARTIAL_REFUND_CENTS}, "invoice": {"id": invoice_id}}
    assert negative in allocations
    assert sum(item["amount"]["cents"] for item in allocations) == (
        PAYMENT_CENTS - PARTIAL_REFUND_CENTS
    )


async def test_full_refund_reopens_invoice(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    invoice_cents = patient.invoices[0].total_cents
    payment_id = await paid_by_card(graphql, patient, invoice_cents)
    before = await fetch_state(graphql, patient, payment_id)

    await refund(graphql, staff, payment_id)
    after = await fetch_state(graphql, patient, payment_id)

    assert before["invoice"]["status"] == "PAID"
    assert after["invoice"]["status"] == "OPEN"
    assert after["invoice"]["amountDue"]["cents"] == invoice_cents


async def test_partial_refund_reopens_invoice(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient, patient.invoices[0].total_cents)
    before = await fetch_state(graphql, patient, payment_id)

    await refund(graphql, staff, payment_id, amount_cents=PARTIAL_REFUND_CENTS)
    after = await fetch_state(graphql, patient, payment_id)

    assert before["invoice"]["status"] == "PAID"
    assert after["invoice"]["status"] == "PARTIALLY_PAID"
    assert after["invoice"]["amountDue"]["cents"] == PARTIAL_REFUND_CENTS


async def test_refund_raises_balance(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient)
    before = await fetch_state(graphql, patient, payment_id)

    await refund(graphql, staff, payment_id, amount_cents=PARTIAL_REFUND_CENTS)
    after = await fetch_state(graphql, patient, payment_id)

    assert before["me"]["balance"]["cents"] == patient.balance_cents - PAYMENT_CENTS
    assert after["me"]["balance"]["cents"] == (
        before["me"]["balance"]["cents"] + PARTIAL_REFUND_CENTS
    )


async def test_refund_beyond_payment_rejected(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient)

    payload = await refund(graphql, staff, payment_id, amount_cents=PAYMENT_CENTS + 1)
    state = await fetch_state(graphql, patient, payment_id)

    assert payload["refund"] is None
    assert user_error_codes(payload) == ["REFUND_EXCEEDS_PAYMENT"]
    assert payload["userErrors"][0]["field"] == "amountCents"
    assert state["payment"]["status"] == "SUCCEEDED"
    assert state["payment"]["amountRefunded"]["cents"] == 0


async def test_refund_beyond_remaining_rejected(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient)
    await refund(graphql, staff, payment_id, amount_cents=PARTIAL_REFUND_CENTS)
    remaining = PAYMENT_CENTS - PARTIAL_REFUND_CENTS

    payload = await refund(graphql, staff, payment_id, amount_cents=remaining + 1)
    state = await fetch_state(graphql, patient, payment_id)

    assert payload["refund"] is None
    assert user_error_codes(payload) == ["REFUND_EXCEEDS_PAYMENT"]
    assert state["payment"]["status"] == "PARTIALLY_REFUNDED"
    assert state["payment"]["amountRefunded"]["cents"] == PARTIAL_REFUND_CENTS


async def test_failed_payment_not_refundable(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    card = await add_card(graphql, patient.token, VISA_DECLINED)
    payment = await pay_bill(
        graphql, patient.token, payment_method_id=card["id"], amount_cents=PAYMENT_CENTS
    )
    failed = await wait_for_payment_status(graphql, patient.token, payment["id"], OUTCOME_STATUSES)

    payload = await refund(graphql, staff, payment["id"])
    state = await fetch_state(graphql, patient, payment["id"])

    assert failed["status"] == "FAILED"
    assert payload["refund"] is None
    assert user_error_codes(payload) == ["PAYMENT_NOT_REFUNDABLE"]
    assert state["payment"]["status"] == "FAILED"
    assert state["payment"]["amountRefunded"]["cents"] == 0


async def test_processing_payment_not_refundable(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    bank_account = await add_bank_account(graphql, patient.token, ACH_SETTLES)
    payment = await pay_bill(
        graphql, patient.token, payment_method_id=bank_account["id"], amount_cents=PAYMENT_CENTS
    )

    payload = await refund(graphql, staff, payment["id"])
    state = await fetch_payment(graphql, patient.token, payment["id"])

    assert payment["status"] == "PROCESSING"
    assert payload["refund"] is None
    assert user_error_codes(payload) == ["PAYMENT_NOT_REFUNDABLE"]
    assert state["status"] == "PROCESSING"


async def test_refund_retry_returns_same_refund(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient)
    key = new_idempotency_key()
    first = await refund(
        graphql, staff, payment_id, amount_cents=PARTIAL_REFUND_CENTS, idempotency_key=key
    )

    retry = await refund(
        graphql, staff, payment_id, amount_cents=PARTIAL_REFUND_CENTS, idempotency_key=key
    )
    state = await fetch_state(graphql, patient, payment_id)

    assert first["userErrors"] == []
    assert retry["userErrors"] == []
    assert retry["refund"] == first["refund"]
    assert state["payment"]["amountRefunded"]["cents"] == PARTIAL_REFUND_CENTS


async def test_refund_key_reuse_rejected(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient)
    key = new_idempotency_key()
    await refund(graphql, staff, payment_id, amount_cents=PARTIAL_REFUND_CENTS, idempotency_key=key)

    reused = await refund(
        graphql, staff, payment_id, amount_cents=PARTIAL_REFUND_CENTS + 1, idempotency_key=key
    )
    state = await fetch_state(graphql, patient, payment_id)

    assert reused["refund"] is None
    assert user_error_codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    assert reused["userErrors"][0]["field"] == "idempotencyKey"
    assert state["payment"]["amountRefunded"]["cents"] == PARTIAL_REFUND_CENTS


async def test_concurrent_full_refunds_one_accepted(
    graphql: GraphQLClient, patient: PatientAccount, staff: StaffAccount
) -> None:
    payment_id = await paid_by_card(graphql, patient)

    payloads = await asyncio.gather(
        *(refund(graphql, staff, payment_id) for _ in range(CONCURRENT_REFUNDS))
    )
    state = await fetch_state(graphql, patient, payment_id)

    accepted = [payload for payload in payloads if payload["userErrors"] == []]
    rejected_codes = [code for payload in payloads for code in user_error_codes(payload)]
    assert len(accepted) == 1
    assert set(rejected_codes) <= {"REFUND_EXCEEDS_PAYMENT", "PAYMENT_NOT_REFUNDABLE"}
    assert len(rejected_codes) == CONCURRENT_REFUNDS - 1
    assert state["payment"]["status"] == "REFUNDED"
    assert state["payment"]["amountRefunded"]["cents"] == PAYMENT_CENTS
