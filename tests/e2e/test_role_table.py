"""What each role may read and change: one table per kind of operation.

Every row is a role and every column an operation on patient A's records.
Patient B and anonymous callers must learn nothing about A, so they get
the same response for A's IDs as for IDs that never existed. Staff see
everything. A partner key reads what its scopes allow and is rejected with
FORBIDDEN, naming the missing scope, for the rest.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.accounts import (
    VISA_CREDIT,
    PatientAccount,
    add_card,
    card_input,
    create_patient,
    encode_global_id,
    new_idempotency_key,
    pay_bill,
    wait_for_payment_status,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.operations import LOG_IN, LOG_OUT
from tests.e2e.server import GatewayServer
from tests.e2e.staff_and_keys import (
    PartnerKey,
    StaffAccount,
    create_partner_key,
    create_staff,
    insert_partner_key_without_scopes,
    staff_log_in,
)
from tests.e2e.staff_operations import VIEWER

PATIENT_A = "patient-a"
PATIENT_B = "patient-b"
STAFF = "staff"
AUDITOR = "auditor"
PARTNER_PATIENTS_READ = "partner-patients-read"
PARTNER_PAYMENTS_READ = "partner-payments-read"
PARTNER_PAYMENTS_WRITE = "partner-payments-write"
PARTNER_EVENTS_READ = "partner-events-read"
PARTNER_NO_SCOPE = "partner-no-scope"
ANONYMOUS = "anonymous"

PARTNER_SCOPES = {
    PARTNER_PATIENTS_READ: "patients:read",
    PARTNER_PAYMENTS_READ: "payments:read",
    PARTNER_PAYMENTS_WRITE: "payments:write",
    PARTNER_EVENTS_READ: "events:read",
}
PARTNERS = (*PARTNER_SCOPES, PARTNER_NO_SCOPE)

OWNER_PAYMENT_CENTS = 5_000
SMALL_PAYMENT_CENTS = 100
# A database id no row reaches in a test database.
UNKNOWN_DATABASE_ID = 999_999_999
HTTP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Outcome:
    """What a role gets for one operation on A's records."""

    kind: str
    # The scope a FORBIDDEN error must name, or None where no scope would help.
    scope: str | None = None


SEEN = Outcome("seen")
HIDDEN = Outcome("hidden")
ACCEPTED = Outcome("accepted")
NOT_FOUND = Outcome("not-found")
FORBIDDEN = Outcome("forbidden")
UNAUTHENTICATED = Outcome("unauthenticated")
NEEDS_PATIENTS_READ = Outcome("forbidden", "patients:read")
NEEDS_PAYMENTS_READ = Outcome("forbidden", "payments:read")
NEEDS_PAYMENTS_WRITE = Outcome("forbidden", "payments:write")

Table = Mapping[str, tuple[Outcome, ...]]


def table_cases(
    table: Table, columns: tuple[str, ...], accept: Callable[[Outcome], bool]
) -> list[Any]:
    """List the (role, column, outcome) cells of ``table`` that ``accept`` selects."""
    return [
        pytest.param(role, column, outcome, id=f"{role}-{column}")
        for role, row in table.items()
        for column, outcome in zip(columns, row, strict=True)
        if accept(outcome)
    ]


def is_forbidden(outcome: Outcome) -> bool:
    return outcome.kind == "forbidden"


@dataclass(frozen=True)
class Actors:
    """Patient A with a succeeded payment, patient B, staff, and one partner key per scope."""

    owner: PatientAccount
    other: PatientAccount
    payment_id: str
    method_id: str
    staff: StaffAccount
    auditor: StaffAccount
    keys: Mapping[str, PartnerKey]

    def token(self, role: str) -> str | None:
        tokens = {
            PATIENT_A: self.owner.token,
            PATIENT_B: self.other.token,
            STAFF: self.staff.token,
            AUDITOR: self.auditor.token,
            ANONYMOUS: None,
        }
        if role in tokens:
            return tokens[role]
        return self.keys[role].key

    def object_id(self, type_name: str) -> str:
        ids = {
            "Patient": self.owner.global_id,
            "Appointment": self.owner.appointment_global_id,
            "Invoice": self.owner.invoices[0].global_id,
            "Payment": self.payment_id,
            "PaymentMethod": self.method_id,
        }
        return ids[type_name]


async def create_partner_keys(gateway: GatewayServer) -> dict[str, PartnerKey]:
    scoped = await asyncio.gather(
        *(create_partner_key(gateway.database_url, scope) for scope in PARTNER_SCOPES.values())
    )
    keys = dict(zip(PARTNER_SCOPES, scoped, strict=True))
    keys[PARTNER_NO_SCOPE] = await insert_partner_key_without_scopes(gateway.database_url)
    for key in keys.values():
        # test_server_logs.py then checks that no API key reaches the server's output.
        gateway.secrets["token"].add(key.key)
    return keys


async def create_actors(gateway: GatewayServer) -> Actors:
    async with httpx.AsyncClient(
        base_url=gateway.base_url, trust_env=False, timeout=HTTP_TIMEOUT_SECONDS
    ) as http:
        client = GraphQLClient(http, gateway.secrets)
        owner = await create_patient(client, gateway.database_url)
        other = await create_patient(client, gateway.database_url)
        method = await add_card(client, owner.token, VISA_CREDIT)
        await add_card(client, other.token, VISA_CREDIT)
        payment = await pay_bill(
            client, owner.token, payment_method_id=method["id"], amount_cents=OWNER_PAYMENT_CENTS
        )
        await wait_for_payment_status(client, owner.token, payment["id"], frozenset({"SUCCEEDED"}))
        staff, auditor, keys = await asyncio.gather(
            create_staff(client, gateway.database_url),
            create_staff(client, gateway.database_url, auditor=True),
            create_partner_keys(gateway),
        )
    return Actors(
        owner=owner,
        other=other,
        payment_id=payment["id"],
        method_id=method["id"],
        staff=staff,
        auditor=auditor,
        keys=keys,
    )


@pytest.fixture(scope="module")
def actors(gateway: GatewayServer) -> Actors:
    # The fixture is module-scoped, so it runs its own event loop because
    # pytest-asyncio closes each test's loop when the test ends.
    return asyncio.run(create_actors(gateway))


def error_codes(result: Mapping[str, Any]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in result.get("errors") or []]


def user_error_codes(payload: Mapping[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def raw_global_id(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# node(id:)

NODE = """
query Node($id: ID!) {
  node(id: $id) { __typename id }
}
"""

NODE_TYPES = ("Patient", "Appointment", "Invoice", "Payment", "PaymentMethod")
# Scopes are checked per type: patients:read for the first three, payments:read for the rest.
NODE_TABLE: Table = {
    PATIENT_A: (SEEN, SEEN, SEEN, SEEN, SEEN),
    PATIENT_B: (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    STAFF: (SEEN, SEEN, SEEN, SEEN, SEEN),
    PARTNER_PATIENTS_READ: (SEEN, SEEN, SEEN, NEEDS_PAYMENTS_READ, NEEDS_PAYMENTS_READ),
    PARTNER_PAYMENTS_READ: (
        NEEDS_PATIENTS_READ,
        NEEDS_PATIENTS_READ,
        NEEDS_PATIENTS_READ,
        SEEN,
        SEEN,
    ),
    PARTNER_PAYMENTS_WRITE: (
        NEEDS_PATIENTS_READ,
        NEEDS_PATIENTS_READ,
        NEEDS_PATIENTS_READ,
        NEEDS_PAYMENTS_READ,
        NEEDS_PAYMENTS_READ,
    ),
    PARTNER_EVENTS_READ: (
        NEEDS_PATIENTS_READ,
        NEEDS_PATIENTS_READ,
        NEEDS_PATIENTS_READ,
        NEEDS_PAYMENTS_READ,
        NEEDS_PAYMENTS_READ,
    ),
    PARTNER_NO_SCOPE: (
        NEEDS_PATIENTS_READ,
        NEEDS_PATIENTS_READ,
        NEEDS_PATIENTS_READ,
        NEEDS_PAYMENTS_READ,
        NEEDS_PAYMENTS_READ,
    ),
    ANONYMOUS: (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
}


@pytest.mark.parametrize(
    ("role", "type_name", "outcome"), table_cases(NODE_TABLE, NODE_TYPES, lambda o: o == SEEN)
)
async def test_node_seen(
    graphql: GraphQLClient, actors: Actors, role: str, type_name: str, outcome: Outcome
) -> None:
    object_id = actors.object_id(type_name)

    result = await graphql.execute(NODE, {"id": object_id}, token=actors.token(role))

    assert result.get("errors") is None
    assert result["data"]["node"] == {"__typename": type_name, "id": object_id}


@pytest.mark.parametrize(
    ("role", "type_name", "outcome"), table_cases(NODE_TABLE, NODE_TYPES, lambda o: o == HIDDEN)
)
async def test_node_hidden(
    graphql: GraphQLClient, actors: Actors, role: str, type_name: str, outcome: Outcome
) -> None:
    result = await graphql.execute(
        NODE, {"id": actors.object_id(type_name)}, token=actors.token(role)
    )

    assert result.get("errors") is None
    assert result["data"]["node"] is None


@pytest.mark.parametrize(
    ("role", "type_name", "outcome"), table_cases(NODE_TABLE, NODE_TYPES, is_forbidden)
)
async def test_node_forbidden(
    graphql: GraphQLClient, actors: Actors, role: str, type_name: str, outcome: Outcome
) -> None:
    result = await graphql.execute(
        NODE, {"id": actors.object_id(type_name)}, token=actors.token(role)
    )

    assert result["data"]["node"] is None
    assert error_codes(result) == ["FORBIDDEN"]
    assert outcome.scope in result["errors"][0]["message"]


@pytest.mark.parametrize(
    ("role", "type_name", "outcome"), table_cases(NODE_TABLE, NODE_TYPES, lambda o: o != SEEN)
)
async def test_node_hides_existence(
    graphql: GraphQLClient, actors: Actors, role: str, type_name: str, outcome: Outcome
) -> None:
    unknown_id = encode_global_id(type_name, UNKNOWN_DATABASE_ID)

    for_owner_id = await graphql.execute(
        NODE, {"id": actors.object_id(type_name)}, token=actors.token(role)
    )
    for_unknown_id = await graphql.execute(NODE, {"id": unknown_id}, token=actors.token(role))

    assert for_owner_id == for_unknown_id


@pytest.mark.parametrize(
    ("role", "type_name", "outcome"),
    table_cases(NODE_TABLE, NODE_TYPES, lambda o: o in (SEEN, HIDDEN)),
)
async def test_node_unknown_id_null(
    graphql: GraphQLClient, actors: Actors, role: str, type_name: str, outcome: Outcome
) -> None:
    unknown_id = encode_global_id(type_name, UNKNOWN_DATABASE_ID)

    result = await graphql.execute(NODE, {"id": unknown_id}, token=actors.token(role))

    assert result.get("errors") is None
    assert result["data"]["node"] is None


# IDs no role can use: malformed ones, and well-formed ones of types node(id:) does not serve.
UNUSABLE_IDS = {
    "empty": "",
    "not-base64": "not-a-global-id",
    "no-separator": raw_global_id("Payment"),
    "non-numeric": raw_global_id("Payment:abc"),
    "negative": raw_global_id("Payment:-1"),
    "clinician": raw_global_id("Clinician:1"),
    "allocation": raw_global_id("Allocation:1"),
    "event-cursor": raw_global_id("PaymentEventCursor:1"),
}
ALL_ROLES = tuple(NODE_TABLE)


@pytest.mark.parametrize("id_case", UNUSABLE_IDS)
@pytest.mark.parametrize("role", ALL_ROLES)
async def test_node_unusable_id_null(
    graphql: GraphQLClient, actors: Actors, role: str, id_case: str
) -> None:
    result = await graphql.execute(NODE, {"id": UNUSABLE_IDS[id_case]}, token=actors.token(role))

    assert result.get("errors") is None
    assert result["data"]["node"] is None


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_node_padded_owner_id_null(graphql: GraphQLClient, actors: Actors, role: str) -> None:
    # A lenient base64 decoder would read A's payment ID with junk after it as the ID itself.
    padded_id = actors.payment_id + "!!"

    result = await graphql.execute(NODE, {"id": padded_id}, token=actors.token(role))

    assert result.get("errors") is None
    assert result["data"]["node"] is None


# Nested fields, reached from node(id:) on A's records.


@dataclass(frozen=True)
class NestedField:
    """A field below node(id:), the object the query starts from, and how to find A's data."""

    query: str
    start_type: str
    # Pulls the values the field returned out of the node.
    values: Callable[[Mapping[str, Any]], set[Any]]
    # The value A's records must show among them.
    expected: Callable[[Actors], Any]


NESTED_FIELDS = {
    "Payment.patient": NestedField(
        query="""
        query PaymentPatient($id: ID!) {
          node(id: $id) { ... on Payment { patient { id } } }
        }
        """,
        start_type="Payment",
        values=lambda node: {node["patient"]["id"]},
        expected=lambda actors: actors.owner.global_id,
    ),
    "Invoice.allocations": NestedField(
        query="""
        query InvoiceAllocations($id: ID!) {
          node(id: $id) { ... on Invoice { allocations { amount { cents } } } }
        }
        """,
        start_type="Invoice",
        values=lambda node: {item["amount"]["cents"] for item in node["allocations"]},
        expected=lambda _actors: OWNER_PAYMENT_CENTS,
    ),
    "Allocation.payment": NestedField(
        query="""
        query AllocationPayment($id: ID!) {
          node(id: $id) { ... on Payment { allocations { payment { id } } } }
        }
        """,
        start_type="Payment",
        values=lambda node: {item["payment"]["id"] for item in node["allocations"]},
        expected=lambda actors: actors.payment_id,
    ),
    "Allocation.invoice": NestedField(
        query="""
        query AllocationInvoice($id: ID!) {
          node(id: $id) { ... on Payment { allocations { invoice { id } } } }
        }
        """,
        start_type="Payment",
        values=lambda node: {item["invoice"]["id"] for item in node["allocations"]},
        expected=lambda actors: actors.owner.invoices[0].global_id,
    ),
    "Payment.method": NestedField(
        query="""
        query PaymentMethodOfPayment($id: ID!) {
          node(id: $id) { ... on Payment { method { id } } }
        }
        """,
        start_type="Payment",
        values=lambda node: {node["method"]["id"]},
        expected=lambda actors: actors.method_id,
    ),
    "Patient.payments": NestedField(
        query="""
        query PatientPayments($id: ID!) {
          node(id: $id) { ... on Patient { payments(first: 100) { edges { node { id } } } } }
        }
        """,
        start_type="Patient",
        values=lambda node: {edge["node"]["id"] for edge in node["payments"]["edges"]},
        expected=lambda actors: actors.payment_id,
    ),
}
NESTED_COLUMNS = tuple(NESTED_FIELDS)
# A partner is refused at the first field on the path whose scope its key lacks.
PARTNER_WITHOUT_READ_SCOPES_NESTED = (
    NEEDS_PAYMENTS_READ,
    NEEDS_PATIENTS_READ,
    NEEDS_PAYMENTS_READ,
    NEEDS_PAYMENTS_READ,
    NEEDS_PAYMENTS_READ,
    NEEDS_PATIENTS_READ,
)
NESTED_TABLE: Table = {
    PATIENT_A: (SEEN, SEEN, SEEN, SEEN, SEEN, SEEN),
    PATIENT_B: (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    STAFF: (SEEN, SEEN, SEEN, SEEN, SEEN, SEEN),
    PARTNER_PATIENTS_READ: (
        NEEDS_PAYMENTS_READ,
        NEEDS_PAYMENTS_READ,
        NEEDS_PAYMENTS_READ,
        NEEDS_PAYMENTS_READ,
        NEEDS_PAYMENTS_READ,
        NEEDS_PAYMENTS_READ,
    ),
    PARTNER_PAYMENTS_READ: (
        NEEDS_PATIENTS_READ,
        NEEDS_PATIENTS_READ,
        SEEN,
        NEEDS_PATIENTS_READ,
        SEEN,
        NEEDS_PATIENTS_READ,
    ),
    PARTNER_PAYMENTS_WRITE: PARTNER_WITHOUT_READ_SCOPES_NESTED,
    PARTNER_EVENTS_READ: PARTNER_WITHOUT_READ_SCOPES_NESTED,
    PARTNER_NO_SCOPE: PARTNER_WITHOUT_READ_SCOPES_NESTED,
    ANONYMOUS: (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
}


async def query_nested(
    graphql: GraphQLClient, actors: Actors, role: str, field_name: str
) -> dict[str, Any]:
    field = NESTED_FIELDS[field_name]
    variables = {"id": actors.object_id(field.start_type)}
    return await graphql.execute(field.query, variables, token=actors.token(role))


@pytest.mark.parametrize(
    ("role", "field_name", "outcome"),
    table_cases(NESTED_TABLE, NESTED_COLUMNS, lambda o: o == SEEN),
)
async def test_nested_field_seen(
    graphql: GraphQLClient, actors: Actors, role: str, field_name: str, outcome: Outcome
) -> None:
    field = NESTED_FIELDS[field_name]

    result = await query_nested(graphql, actors, role, field_name)

    assert result.get("errors") is None
    assert field.expected(actors) in field.values(result["data"]["node"])


@pytest.mark.parametrize(
    ("role", "field_name", "outcome"),
    table_cases(NESTED_TABLE, NESTED_COLUMNS, lambda o: o == HIDDEN),
)
async def test_nested_field_hidden(
    graphql: GraphQLClient, actors: Actors, role: str, field_name: str, outcome: Outcome
) -> None:
    result = await query_nested(graphql, actors, role, field_name)

    assert result.get("errors") is None
    assert result["data"]["node"] is None


@pytest.mark.parametrize(
    ("role", "field_name", "outcome"), table_cases(NESTED_TABLE, NESTED_COLUMNS, is_forbidden)
)
async def test_nested_field_forbidden(
    graphql: GraphQLClient, actors: Actors, role: str, field_name: str, outcome: Outcome
) -> None:
    expected = NESTED_FIELDS[field_name].expected(actors)

    result = await query_nested(graphql, actors, role, field_name)

    assert error_codes(result) == ["FORBIDDEN"]
    assert outcome.scope in result["errors"][0]["message"]
    assert json.dumps(expected) not in json.dumps(result["data"])


# Mutations on A's records.

PAY_BILL = """
mutation PayBill($input: PayBillInput!) {
  payBill(input: $input) {
    payment { id }
    userErrors { field code message }
  }
}
"""

ADD_PAYMENT_METHOD = """
mutation AddPaymentMethod($input: AddPaymentMethodInput!) {
  addPaymentMethod(input: $input) {
    paymentMethod { id }
    userErrors { field code message }
  }
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

# Only fields a key with payments:write alone may read; allocations need payments:read.
REFUND_PAYMENT = """
mutation RefundPayment($input: RefundPaymentInput!) {
  refundPayment(input: $input) {
    refund { amount { cents } }
    payment { id status }
    userErrors { field code message }
  }
}
"""

OWNER_STATE = """
query OwnerState($paymentId: ID!) {
  me {
    paymentMethods { id }
    payments(first: 100) { edges { node { id } } }
  }
  node(id: $paymentId) { ... on Payment { status amountRefunded { cents } } }
}
"""

MUTATIONS = ("payBill", "addPaymentMethod", "removePaymentMethod", "refundPayment")
# payBill and the method mutations act on the caller's own account, so only
# patients may use them, and no scope would let staff or a partner do so.
PARTNER_WITHOUT_WRITE_MUTATIONS = (FORBIDDEN, FORBIDDEN, FORBIDDEN, NEEDS_PAYMENTS_WRITE)
MUTATION_TABLE: Table = {
    PATIENT_A: (ACCEPTED, ACCEPTED, ACCEPTED, FORBIDDEN),
    PATIENT_B: (NOT_FOUND, ACCEPTED, NOT_FOUND, FORBIDDEN),
    STAFF: (FORBIDDEN, FORBIDDEN, FORBIDDEN, ACCEPTED),
    PARTNER_PATIENTS_READ: PARTNER_WITHOUT_WRITE_MUTATIONS,
    PARTNER_PAYMENTS_READ: PARTNER_WITHOUT_WRITE_MUTATIONS,
    # Refund errors and results describe the payment, so a key needs
    # payments:read beside payments:write to refund.
    PARTNER_PAYMENTS_WRITE: (FORBIDDEN, FORBIDDEN, FORBIDDEN, NEEDS_PAYMENTS_READ),
    PARTNER_EVENTS_READ: PARTNER_WITHOUT_WRITE_MUTATIONS,
    PARTNER_NO_SCOPE: PARTNER_WITHOUT_WRITE_MUTATIONS,
    ANONYMOUS: (UNAUTHENTICATED, UNAUTHENTICATED, UNAUTHENTICATED, UNAUTHENTICATED),
}
USER_ERROR_CODES = {
    NOT_FOUND.kind: "NOT_FOUND",
    FORBIDDEN.kind: "FORBIDDEN",
    UNAUTHENTICATED.kind: "UNAUTHENTICATED",
}


def mutation_cases(mutation: str, accept: Callable[[Outcome], bool]) -> list[Any]:
    column = MUTATIONS.index(mutation)
    return [
        pytest.param(role, row[column], id=role)
        for role, row in MUTATION_TABLE.items()
        if accept(row[column])
    ]


def is_rejected(outcome: Outcome) -> bool:
    return outcome != ACCEPTED


async def send_pay_bill(
    graphql: GraphQLClient, token: str | None, method_id: str
) -> dict[str, Any]:
    pay_input = {
        "idempotencyKey": new_idempotency_key(),
        "paymentMethodId": method_id,
        "amountCents": SMALL_PAYMENT_CENTS,
    }
    data = await graphql.data(PAY_BILL, {"input": pay_input}, token=token)
    payload: dict[str, Any] = data["payBill"]
    return payload


async def send_remove_method(
    graphql: GraphQLClient, token: str | None, method_id: str
) -> dict[str, Any]:
    data = await graphql.data(REMOVE_PAYMENT_METHOD, {"id": method_id}, token=token)
    payload: dict[str, Any] = data["removePaymentMethod"]
    return payload


async def send_refund(graphql: GraphQLClient, token: str | None, payment_id: str) -> dict[str, Any]:
    refund_input = {
        "paymentId": payment_id,
        "amountCents": SMALL_PAYMENT_CENTS,
        "reason": "Billed twice for the same session",
        "idempotencyKey": new_idempotency_key(),
    }
    data = await graphql.data(REFUND_PAYMENT, {"input": refund_input}, token=token)
    payload: dict[str, Any] = data["refundPayment"]
    return payload


async def new_owner_payment(graphql: GraphQLClient, actors: Actors) -> str:
    """Make a small succeeded payment of A's, for a role that may refund it."""
    payment = await pay_bill(
        graphql,
        actors.owner.token,
        payment_method_id=actors.method_id,
        amount_cents=SMALL_PAYMENT_CENTS,
    )
    await wait_for_payment_status(
        graphql, actors.owner.token, payment["id"], frozenset({"SUCCEEDED"})
    )
    payment_id: str = payment["id"]
    return payment_id


async def fetch_owner_state(graphql: GraphQLClient, actors: Actors) -> dict[str, Any]:
    return await graphql.data(
        OWNER_STATE, {"paymentId": actors.payment_id}, token=actors.owner.token
    )


@pytest.mark.parametrize(("role", "outcome"), mutation_cases("payBill", lambda o: o == ACCEPTED))
async def test_pay_bill_accepted(
    graphql: GraphQLClient, actors: Actors, role: str, outcome: Outcome
) -> None:
    payload = await send_pay_bill(graphql, actors.token(role), actors.method_id)

    assert payload["userErrors"] == []
    assert payload["payment"] is not None


@pytest.mark.parametrize(("role", "outcome"), mutation_cases("payBill", is_rejected))
async def test_pay_bill_rejected(
    graphql: GraphQLClient, actors: Actors, role: str, outcome: Outcome
) -> None:
    before = await fetch_owner_state(graphql, actors)

    payload = await send_pay_bill(graphql, actors.token(role), actors.method_id)
    after = await fetch_owner_state(graphql, actors)

    assert payload["payment"] is None
    assert user_error_codes(payload) == [USER_ERROR_CODES[outcome.kind]]
    assert after["me"]["payments"] == before["me"]["payments"]


@pytest.mark.parametrize(
    ("role", "outcome"), mutation_cases("addPaymentMethod", lambda o: o == ACCEPTED)
)
async def test_add_payment_method_accepted(
    graphql: GraphQLClient, actors: Actors, role: str, outcome: Outcome
) -> None:
    method_input = {"methodType": "CREDIT_CARD", "card": card_input(VISA_CREDIT)}

    data = await graphql.data(ADD_PAYMENT_METHOD, {"input": method_input}, token=actors.token(role))

    payload = data["addPaymentMethod"]
    assert payload["userErrors"] == []
    assert payload["paymentMethod"] is not None


@pytest.mark.parametrize(("role", "outcome"), mutation_cases("addPaymentMethod", is_rejected))
async def test_add_payment_method_rejected(
    graphql: GraphQLClient, actors: Actors, role: str, outcome: Outcome
) -> None:
    method_input = {"methodType": "CREDIT_CARD", "card": card_input(VISA_CREDIT)}

    data = await graphql.data(ADD_PAYMENT_METHOD, {"input": method_input}, token=actors.token(role))

    payload = data["addPaymentMethod"]
    assert payload["paymentMethod"] is None
    assert user_error_codes(payload) == [USER_ERROR_CODES[outcome.kind]]


@pytest.mark.parametrize(
    ("role", "outcome"), mutation_cases("removePaymentMethod", lambda o: o == ACCEPTED)
)
async def test_remove_payment_method_accepted(
    graphql: GraphQLClient, actors: Actors, role: str, outcome: Outcome
) -> None:
    spare = await add_card(graphql, actors.owner.token, VISA_CREDIT)

    payload = await send_remove_method(graphql, actors.token(role), spare["id"])
    after = await fetch_owner_state(graphql, actors)

    assert payload["userErrors"] == []
    assert payload["paymentMethod"]["id"] == spare["id"]
    assert {"id": spare["id"]} not in after["me"]["paymentMethods"]


@pytest.mark.parametrize(("role", "outcome"), mutation_cases("removePaymentMethod", is_rejected))
async def test_remove_payment_method_rejected(
    graphql: GraphQLClient, actors: Actors, role: str, outcome: Outcome
) -> None:
    payload = await send_remove_method(graphql, actors.token(role), actors.method_id)
    after = await fetch_owner_state(graphql, actors)

    assert payload["paymentMethod"] is None
    assert user_error_codes(payload) == [USER_ERROR_CODES[outcome.kind]]
    assert {"id": actors.method_id} in after["me"]["paymentMethods"]


@pytest.mark.parametrize(
    ("role", "outcome"), mutation_cases("refundPayment", lambda o: o == ACCEPTED)
)
async def test_refund_payment_accepted(
    graphql: GraphQLClient, actors: Actors, role: str, outcome: Outcome
) -> None:
    payment_id = await new_owner_payment(graphql, actors)

    payload = await send_refund(graphql, actors.token(role), payment_id)

    assert payload["userErrors"] == []
    assert payload["refund"]["amount"]["cents"] == SMALL_PAYMENT_CENTS
    assert payload["payment"]["status"] == "REFUNDED"


@pytest.mark.parametrize(("role", "outcome"), mutation_cases("refundPayment", is_rejected))
async def test_refund_payment_rejected(
    graphql: GraphQLClient, actors: Actors, role: str, outcome: Outcome
) -> None:
    payload = await send_refund(graphql, actors.token(role), actors.payment_id)
    after = await fetch_owner_state(graphql, actors)

    assert payload["refund"] is None
    assert user_error_codes(payload) == [USER_ERROR_CODES[outcome.kind]]
    assert after["node"] == {"status": "SUCCEEDED", "amountRefunded": {"cents": 0}}


@pytest.mark.parametrize(
    ("role", "outcome"), mutation_cases("refundPayment", lambda o: o.scope is not None)
)
async def test_refund_names_missing_scope(
    graphql: GraphQLClient, actors: Actors, role: str, outcome: Outcome
) -> None:
    payload = await send_refund(graphql, actors.token(role), actors.payment_id)

    assert outcome.scope in payload["userErrors"][0]["message"]


# Mutations that name one of A's objects, and the payload for an object that never existed.
TARGETED_MUTATIONS: dict[str, Callable[..., Any]] = {
    "payBill": lambda graphql, token, ids: send_pay_bill(graphql, token, ids["PaymentMethod"]),
    "removePaymentMethod": lambda graphql, token, ids: send_remove_method(
        graphql, token, ids["PaymentMethod"]
    ),
    "refundPayment": lambda graphql, token, ids: send_refund(graphql, token, ids["Payment"]),
}


def hidden_target_cases() -> list[Any]:
    return [
        pytest.param(mutation, role, id=f"{role}-{mutation}")
        for mutation in TARGETED_MUTATIONS
        for role, row in MUTATION_TABLE.items()
        if is_rejected(row[MUTATIONS.index(mutation)])
    ]


@pytest.mark.parametrize(("mutation", "role"), hidden_target_cases())
async def test_mutation_hides_existence(
    graphql: GraphQLClient, actors: Actors, mutation: str, role: str
) -> None:
    send = TARGETED_MUTATIONS[mutation]
    owner_ids = {"PaymentMethod": actors.method_id, "Payment": actors.payment_id}
    unknown_ids = {name: encode_global_id(name, UNKNOWN_DATABASE_ID) for name in owner_ids}

    for_owner_id = await send(graphql, actors.token(role), owner_ids)
    for_unknown_id = await send(graphql, actors.token(role), unknown_ids)

    assert for_owner_id == for_unknown_id


@pytest.mark.parametrize(
    "target_id",
    [
        pytest.param(lambda actors: actors.owner.invoices[0].global_id, id="invoice-id"),
        pytest.param(lambda actors: actors.method_id, id="payment-method-id"),
        pytest.param(lambda _actors: "not-a-global-id", id="malformed"),
        pytest.param(
            lambda _actors: encode_global_id("Payment", UNKNOWN_DATABASE_ID), id="unknown"
        ),
    ],
)
async def test_staff_refund_unusable_id_not_found(
    graphql: GraphQLClient, actors: Actors, target_id: Callable[[Actors], str]
) -> None:
    payload = await send_refund(graphql, actors.staff.token, target_id(actors))

    assert payload["refund"] is None
    assert user_error_codes(payload) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    "target_id",
    [
        pytest.param(lambda actors: actors.owner.invoices[0].global_id, id="invoice-id"),
        pytest.param(lambda actors: actors.payment_id, id="payment-id"),
        pytest.param(lambda _actors: "not-a-global-id", id="malformed"),
    ],
)
async def test_remove_unusable_method_id_not_found(
    graphql: GraphQLClient, actors: Actors, target_id: Callable[[Actors], str]
) -> None:
    payload = await send_remove_method(graphql, actors.owner.token, target_id(actors))

    assert payload["paymentMethod"] is None
    assert user_error_codes(payload) == ["NOT_FOUND"]


# logOut


async def fresh_token(graphql: GraphQLClient, actors: Actors, role: str) -> str:
    """Sign the role in again, so logging out leaves the actors's own token working."""
    if role == STAFF:
        return await staff_log_in(graphql, actors.staff.email, actors.staff.password)
    account = actors.owner if role == PATIENT_A else actors.other
    data = await graphql.data(
        LOG_IN, {"input": {"email": account.email, "password": account.password}}
    )
    token: str = data["logIn"]["token"]
    return token


@pytest.mark.parametrize("role", [PATIENT_A, PATIENT_B, STAFF])
async def test_log_out_ends_session(graphql: GraphQLClient, actors: Actors, role: str) -> None:
    token = await fresh_token(graphql, actors, role)

    data = await graphql.data(LOG_OUT, token=token)
    ended = await graphql.data(VIEWER, token=token)
    other_session = await graphql.data(VIEWER, token=actors.token(role))

    assert data["logOut"]["loggedOut"] is True
    assert data["logOut"]["userErrors"] == []
    assert ended["viewer"] is None
    assert other_session["viewer"] is not None


@pytest.mark.parametrize("role", PARTNERS)
async def test_log_out_keeps_partner_key(graphql: GraphQLClient, actors: Actors, role: str) -> None:
    data = await graphql.data(LOG_OUT, token=actors.token(role))
    after = await graphql.data(VIEWER, token=actors.token(role))

    assert data["logOut"]["loggedOut"] is False
    assert data["logOut"]["userErrors"] != []
    assert after["viewer"]["role"] == "PARTNER"


async def test_log_out_anonymous_rejected(graphql: GraphQLClient) -> None:
    data = await graphql.data(LOG_OUT)

    assert data["logOut"]["loggedOut"] is False
    assert user_error_codes(data["logOut"]) == ["UNAUTHENTICATED"]


# me, patients, payments and auditLog


ME = """
query Me {
  me { id }
}
"""


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        pytest.param(PATIENT_A, lambda actors: actors.owner.global_id, id=PATIENT_A),
        pytest.param(PATIENT_B, lambda actors: actors.other.global_id, id=PATIENT_B),
        *(
            pytest.param(role, lambda _actors: None, id=role)
            for role in (STAFF, AUDITOR, *PARTNERS, ANONYMOUS)
        ),
    ],
)
async def test_me_by_role(
    graphql: GraphQLClient, actors: Actors, role: str, expected: Callable[[Actors], str | None]
) -> None:
    result = await graphql.execute(ME, token=actors.token(role))

    me = result["data"]["me"]
    assert result.get("errors") is None
    assert (me["id"] if me else None) == expected(actors)


@dataclass(frozen=True)
class ListQuery:
    query: str
    root: str
    variables: Callable[[Actors], dict[str, Any]]
    # The ID that A's entry in the list must carry.
    expected: Callable[[Actors], str]


LIST_QUERIES = {
    "patients": ListQuery(
        query="""
        query SearchPatients($search: String) {
          patients(first: 100, search: $search) { edges { node { id } } }
        }
        """,
        root="patients",
        variables=lambda actors: {"search": actors.owner.email},
        expected=lambda actors: actors.owner.global_id,
    ),
    "payments": ListQuery(
        query="""
        query PatientPayments($patientId: ID) {
          payments(first: 100, filter: {patientId: $patientId}) { edges { node { id } } }
        }
        """,
        root="payments",
        variables=lambda actors: {"patientId": actors.owner.global_id},
        expected=lambda actors: actors.payment_id,
    ),
    "auditLog": ListQuery(
        query="""
        query PatientAuditLog($patientId: ID) {
          auditLog(first: 100, patientId: $patientId) { edges { node { patientId } } }
        }
        """,
        root="auditLog",
        variables=lambda actors: {"patientId": actors.owner.global_id},
        expected=lambda actors: actors.owner.global_id,
    ),
}
LIST_COLUMNS = tuple(LIST_QUERIES)
LIST_TABLE: Table = {
    PATIENT_A: (FORBIDDEN, SEEN, FORBIDDEN),
    PATIENT_B: (FORBIDDEN, HIDDEN, FORBIDDEN),
    STAFF: (SEEN, SEEN, FORBIDDEN),
    AUDITOR: (SEEN, SEEN, SEEN),
    PARTNER_PATIENTS_READ: (SEEN, NEEDS_PAYMENTS_READ, FORBIDDEN),
    PARTNER_PAYMENTS_READ: (NEEDS_PATIENTS_READ, SEEN, FORBIDDEN),
    PARTNER_PAYMENTS_WRITE: (NEEDS_PATIENTS_READ, NEEDS_PAYMENTS_READ, FORBIDDEN),
    PARTNER_EVENTS_READ: (NEEDS_PATIENTS_READ, NEEDS_PAYMENTS_READ, FORBIDDEN),
    PARTNER_NO_SCOPE: (NEEDS_PATIENTS_READ, NEEDS_PAYMENTS_READ, FORBIDDEN),
    ANONYMOUS: (UNAUTHENTICATED, UNAUTHENTICATED, UNAUTHENTICATED),
}


async def query_list(
    graphql: GraphQLClient, actors: Actors, role: str, list_name: str, **overrides: Any
) -> dict[str, Any]:
    spec = LIST_QUERIES[list_name]
    variables = spec.variables(actors) | overrides
    return await graphql.execute(spec.query, variables, token=actors.token(role))


def listed_ids(result: Mapping[str, Any], root: str) -> list[str]:
    edges = result["data"][root]["edges"]
    return [next(iter(edge["node"].values())) for edge in edges]


@pytest.mark.parametrize(
    ("role", "list_name", "outcome"),
    table_cases(LIST_TABLE, LIST_COLUMNS, lambda o: o == SEEN),
)
async def test_list_seen(
    graphql: GraphQLClient, actors: Actors, role: str, list_name: str, outcome: Outcome
) -> None:
    spec = LIST_QUERIES[list_name]

    result = await query_list(graphql, actors, role, list_name)

    assert result.get("errors") is None
    assert spec.expected(actors) in listed_ids(result, spec.root)


@pytest.mark.parametrize(
    ("role", "list_name", "outcome"),
    table_cases(LIST_TABLE, LIST_COLUMNS, lambda o: o == HIDDEN),
)
async def test_list_hidden(
    graphql: GraphQLClient, actors: Actors, role: str, list_name: str, outcome: Outcome
) -> None:
    result = await query_list(graphql, actors, role, list_name)

    assert result.get("errors") is None
    assert listed_ids(result, LIST_QUERIES[list_name].root) == []


@pytest.mark.parametrize(
    ("role", "list_name", "outcome"), table_cases(LIST_TABLE, LIST_COLUMNS, is_forbidden)
)
async def test_list_forbidden(
    graphql: GraphQLClient, actors: Actors, role: str, list_name: str, outcome: Outcome
) -> None:
    result = await query_list(graphql, actors, role, list_name)

    assert result["data"] is None
    assert error_codes(result) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("role", "list_name", "outcome"),
    table_cases(LIST_TABLE, LIST_COLUMNS, lambda o: o.scope is not None),
)
async def test_list_names_missing_scope(
    graphql: GraphQLClient, actors: Actors, role: str, list_name: str, outcome: Outcome
) -> None:
    result = await query_list(graphql, actors, role, list_name)

    assert outcome.scope in result["errors"][0]["message"]


@pytest.mark.parametrize(
    ("role", "list_name", "outcome"),
    table_cases(LIST_TABLE, LIST_COLUMNS, lambda o: o == UNAUTHENTICATED),
)
async def test_list_unauthenticated(
    graphql: GraphQLClient, actors: Actors, role: str, list_name: str, outcome: Outcome
) -> None:
    result = await query_list(graphql, actors, role, list_name)

    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_payments_filter_hides_existence(graphql: GraphQLClient, actors: Actors) -> None:
    unknown_patient_id = encode_global_id("Patient", UNKNOWN_DATABASE_ID)

    for_owner = await query_list(graphql, actors, PATIENT_B, "payments")
    for_unknown = await query_list(
        graphql, actors, PATIENT_B, "payments", patientId=unknown_patient_id
    )

    assert for_owner == for_unknown


async def test_unfiltered_payments_exclude_owner(graphql: GraphQLClient, actors: Actors) -> None:
    result = await query_list(graphql, actors, PATIENT_B, "payments", patientId=None)

    assert result.get("errors") is None
    assert actors.payment_id not in listed_ids(result, "payments")
