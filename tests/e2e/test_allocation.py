"""How a payment is applied to the invoices a patient chose, and what becomes credit."""

from __future__ import annotations

from tests.e2e.accounts import (
    OUTCOME_STATUSES,
    VISA_CREDIT,
    PatientAccount,
    add_card,
    request_pay_bill,
    wait_for_payment_status,
)
from tests.e2e.graphql_http import GraphQLClient

ACCOUNT_CREDIT = """
query AccountCredit {
  me {
    balance { cents }
    accountCredit { cents }
  }
}
"""

PAYMENT_EVENTS = """
query PaymentEvents($id: ID!) {
  node(id: $id) {
    ... on Payment { events { sequence status message } }
  }
}
"""


async def test_chosen_invoices_paid_in_given_order(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    oldest, _second, newest = patient.invoices
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    amount = newest.total_cents + 2_000

    payload = await request_pay_bill(
        graphql,
        patient.token,
        payment_method_id=method["id"],
        amount_cents=amount,
        invoice_ids=[newest.global_id, oldest.global_id],
    )

    applied = [
        (allocation["invoice"]["id"], allocation["amount"]["cents"])
        for allocation in payload["payment"]["allocations"]
    ]
    assert payload["userErrors"] == []
    assert applied == [(newest.global_id, newest.total_cents), (oldest.global_id, 2_000)]
    assert payload["payment"]["credited"]["cents"] == 0


async def test_extra_money_pays_other_invoices(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    oldest, _second, newest = patient.invoices
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    extra_cents = 2_000
    amount = newest.total_cents + extra_cents

    payload = await request_pay_bill(
        graphql,
        patient.token,
        payment_method_id=method["id"],
        amount_cents=amount,
        invoice_ids=[newest.global_id],
    )
    settled = await wait_for_payment_status(
        graphql, patient.token, payload["payment"]["id"], OUTCOME_STATUSES
    )
    account = await graphql.data(ACCOUNT_CREDIT, token=patient.token)

    applied = [
        (allocation["invoice"]["id"], allocation["amount"]["cents"])
        for allocation in settled["allocations"]
    ]
    assert payload["userErrors"] == []
    assert settled["status"] == "SUCCEEDED"
    assert applied == [(newest.global_id, newest.total_cents), (oldest.global_id, extra_cents)]
    assert settled["credited"]["cents"] == 0
    assert account["me"]["accountCredit"]["cents"] == 0
    assert account["me"]["balance"]["cents"] == patient.balance_cents - amount


async def test_payment_events_field_lists_history(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    payload = await request_pay_bill(
        graphql, patient.token, payment_method_id=method["id"], amount_cents=1_000
    )
    await wait_for_payment_status(
        graphql, patient.token, payload["payment"]["id"], OUTCOME_STATUSES
    )

    data = await graphql.data(PAYMENT_EVENTS, {"id": payload["payment"]["id"]}, token=patient.token)

    events = data["node"]["events"]
    assert [event["sequence"] for event in events] == [1, 2, 3]
    assert [event["status"] for event in events] == ["PENDING", "PROCESSING", "SUCCEEDED"]
    assert all(event["message"] for event in events)
