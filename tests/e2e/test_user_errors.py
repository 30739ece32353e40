"""Mutations rejected with userErrors, and proof that a rejected request writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.accounts import (
    VISA_CREDIT,
    VISA_DEBIT,
    PatientAccount,
    add_card,
    bank_account_input,
    card_input,
    encode_global_id,
    fetch_account_summary,
    new_email,
    new_idempotency_key,
    new_password,
    request_pay_bill,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.operations import ADD_PAYMENT_METHOD, LOG_IN, SIGN_UP

LUHN_INVALID_CARD = "4242424242424241"
# Fails the ABA checksum: 3-7-1 weights give 159, which is not a multiple of 10.
INVALID_ROUTING_NUMBER = "123456789"
UNKNOWN_METHOD_ID = encode_global_id("PaymentMethod", 999_999_999)
BOGUS_TOKEN = "bgp_" + "B" * 43


def error_codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def error_fields(payload: dict[str, Any]) -> list[str | None]:
    return [error["field"] for error in payload["userErrors"]]


@dataclass(frozen=True)
class RejectedPayBill:
    """A payBill input the gateway must reject, built from the patient and a method id."""

    name: str
    build_input: Callable[[PatientAccount, str], dict[str, Any]]
    code: str
    field: str


def pay_input(method_id: str, **overrides: Any) -> dict[str, Any]:
    return {"idempotencyKey": new_idempotency_key(), "paymentMethodId": method_id} | overrides


REJECTED_PAY_BILLS = [
    pytest.param(case, id=case.name)
    for case in (
        RejectedPayBill(
            "zero-amount",
            lambda _patient, method_id: pay_input(method_id, amountCents=0),
            "INVALID_AMOUNT",
            "amountCents",
        ),
        RejectedPayBill(
            "negative-amount",
            lambda _patient, method_id: pay_input(method_id, amountCents=-500),
            "INVALID_AMOUNT",
            "amountCents",
        ),
        RejectedPayBill(
            "balance-plus-one-cent",
            lambda patient, method_id: pay_input(method_id, amountCents=patient.balance_cents + 1),
            "AMOUNT_EXCEEDS_BALANCE",
            "amountCents",
        ),
        RejectedPayBill(
            "unknown-method",
            lambda _patient, _method_id: pay_input(UNKNOWN_METHOD_ID, amountCents=1_000),
            "NOT_FOUND",
            "paymentMethodId",
        ),
        RejectedPayBill(
            "blank-idempotency-key",
            lambda _patient, method_id: pay_input(method_id, idempotencyKey="  "),
            "INVALID_INPUT",
            "idempotencyKey",
        ),
        RejectedPayBill(
            "empty-invoice-list",
            lambda _patient, method_id: pay_input(method_id, invoiceIds=[]),
            "INVALID_INPUT",
            "invoiceIds",
        ),
    )
]

PAY_BILL_MUTATION = """
mutation PayBillRejected($input: PayBillInput!) {
  payBill(input: $input) {
    payment { id }
    userErrors { field code message }
  }
}
"""


@pytest.mark.parametrize("case", REJECTED_PAY_BILLS)
async def test_pay_bill_rejection_code(
    graphql: GraphQLClient, patient: PatientAccount, case: RejectedPayBill
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)

    data = await graphql.data(
        PAY_BILL_MUTATION, {"input": case.build_input(patient, method["id"])}, token=patient.token
    )

    payload = data["payBill"]
    assert payload["payment"] is None
    assert error_codes(payload) == [case.code]
    assert error_fields(payload) == [case.field]
    assert payload["userErrors"][0]["message"]


@pytest.mark.parametrize("case", REJECTED_PAY_BILLS)
async def test_rejected_pay_bill_writes_nothing(
    graphql: GraphQLClient, patient: PatientAccount, case: RejectedPayBill
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    before = await fetch_account_summary(graphql, patient.token)

    await graphql.data(
        PAY_BILL_MUTATION, {"input": case.build_input(patient, method["id"])}, token=patient.token
    )
    after = await fetch_account_summary(graphql, patient.token)

    assert after["payments"]["edges"] == []
    assert after["balance"] == before["balance"]
    assert after["invoices"] == before["invoices"]


async def test_key_of_rejected_request_stays_usable(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    key = new_idempotency_key()
    rejected = await request_pay_bill(
        graphql,
        patient.token,
        payment_method_id=method["id"],
        idempotency_key=key,
        amount_cents=patient.balance_cents + 1,
    )

    accepted = await request_pay_bill(
        graphql,
        patient.token,
        payment_method_id=method["id"],
        idempotency_key=key,
        amount_cents=1_000,
    )

    assert error_codes(rejected) == ["AMOUNT_EXCEEDS_BALANCE"]
    assert accepted["userErrors"] == []
    assert accepted["payment"]["amount"]["cents"] == 1_000


@pytest.mark.parametrize("token", [None, BOGUS_TOKEN], ids=["no-token", "bogus-token"])
async def test_pay_bill_unauthenticated(
    graphql: GraphQLClient, patient: PatientAccount, token: str | None
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)

    payload = await request_pay_bill(
        graphql, token, payment_method_id=method["id"], amount_cents=1_000
    )
    after = await fetch_account_summary(graphql, patient.token)

    assert payload["payment"] is None
    assert error_codes(payload) == ["UNAUTHENTICATED"]
    assert after["payments"]["edges"] == []
    assert after["balance"]["cents"] == patient.balance_cents


def expired_card() -> dict[str, Any]:
    last_year = datetime.now(UTC).year - 1
    return {"methodType": "CREDIT_CARD", "card": card_input(VISA_CREDIT, exp_year=last_year)}


REJECTED_METHODS = [
    pytest.param(
        {"methodType": "CREDIT_CARD", "card": card_input(LUHN_INVALID_CARD)},
        "INVALID_CARD",
        "card.number",
        id="luhn-invalid-card",
    ),
    pytest.param(expired_card(), "INVALID_CARD", "card.expYear", id="expired-card"),
    pytest.param(
        {"methodType": "CREDIT_CARD", "card": card_input(VISA_DEBIT)},
        "INVALID_CARD",
        "methodType",
        id="debit-card-as-credit",
    ),
    pytest.param(
        {"methodType": "ACH", "bankAccount": bank_account_input("000123456789", "123456789")},
        "INVALID_BANK_ACCOUNT",
        "bankAccount.routingNumber",
        id="bad-routing-number",
    ),
]


@pytest.mark.parametrize(("method_input", "code", "field"), REJECTED_METHODS)
async def test_add_payment_method_rejected(
    graphql: GraphQLClient,
    patient: PatientAccount,
    method_input: dict[str, Any],
    code: str,
    field: str,
) -> None:
    data = await graphql.data(ADD_PAYMENT_METHOD, {"input": method_input}, token=patient.token)
    after = await fetch_account_summary(graphql, patient.token)

    payload = data["addPaymentMethod"]
    assert payload["paymentMethod"] is None
    assert error_codes(payload) == [code]
    assert error_fields(payload) == [field]
    assert after["paymentMethods"] == []


async def test_add_payment_method_unauthenticated(graphql: GraphQLClient) -> None:
    method_input = {"methodType": "CREDIT_CARD", "card": card_input(VISA_CREDIT)}

    data = await graphql.data(ADD_PAYMENT_METHOD, {"input": method_input})

    assert data["addPaymentMethod"]["paymentMethod"] is None
    assert error_codes(data["addPaymentMethod"]) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("email_case", [str.lower, str.upper], ids=["same-case", "upper-case"])
async def test_sign_up_email_taken(
    graphql: GraphQLClient, patient: PatientAccount, email_case: Callable[[str], str]
) -> None:
    sign_up_input = {
        "name": "Second Account",
        "email": email_case(patient.email),
        "password": new_password(),
    }

    data = await graphql.data(SIGN_UP, {"input": sign_up_input})

    payload = data["signUp"]
    assert payload["token"] is None
    assert payload["patient"] is None
    assert error_codes(payload) == ["EMAIL_TAKEN"]
    assert error_fields(payload) == ["email"]


@pytest.mark.parametrize(
    ("email", "password", "code", "field"),
    [
        pytest.param("not-an-email", new_password(), "INVALID_EMAIL", "email", id="no-at-sign"),
        pytest.param("robin@localhost", new_password(), "INVALID_EMAIL", "email", id="no-dot"),
        pytest.param(new_email(), "Short-1", "WEAK_PASSWORD", "password", id="short-password"),
        pytest.param(new_email(), "aaaaaaaaaaaa", "WEAK_PASSWORD", "password", id="repeated"),
    ],
)
async def test_sign_up_rejected(
    graphql: GraphQLClient, email: str, password: str, code: str, field: str
) -> None:
    sign_up_input = {"name": "Robin Alvarez", "email": email, "password": password}

    data = await graphql.data(SIGN_UP, {"input": sign_up_input})

    payload = data["signUp"]
    assert payload["token"] is None
    assert payload["patient"] is None
    assert error_codes(payload) == [code]
    assert error_fields(payload) == [field]


async def test_rejected_sign_up_leaves_email_free(graphql: GraphQLClient) -> None:
    email = new_email()
    rejected = await graphql.data(
        SIGN_UP, {"input": {"name": "Robin Alvarez", "email": email, "password": "Short-1"}}
    )

    accepted = await graphql.data(
        SIGN_UP, {"input": {"name": "Robin Alvarez", "email": email, "password": new_password()}}
    )

    assert error_codes(rejected["signUp"]) == ["WEAK_PASSWORD"]
    assert accepted["signUp"]["userErrors"] == []
    assert accepted["signUp"]["patient"]["email"] == email


@pytest.mark.parametrize("known_email", [True, False], ids=["wrong-password", "unknown-email"])
async def test_log_in_invalid_credentials(
    graphql: GraphQLClient, patient: PatientAccount, known_email: bool
) -> None:
    email = patient.email if known_email else new_email()

    data = await graphql.data(LOG_IN, {"input": {"email": email, "password": new_password()}})

    payload = data["logIn"]
    assert payload["token"] is None
    assert payload["patient"] is None
    assert error_codes(payload) == ["INVALID_CREDENTIALS"]
