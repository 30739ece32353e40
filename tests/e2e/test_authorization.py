"""One patient must not read, pay with, or watch another patient's objects."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.accounts import (
    OUTCOME_STATUSES,
    VISA_CREDIT,
    PatientAccount,
    add_card,
    create_patient,
    fetch_account_summary,
    pay_bill,
    request_pay_bill,
    wait_for_payment_status,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.graphql_ws import PROTOCOLS, subscribe
from tests.e2e.operations import PAYMENT_STATUS_CHANGED
from tests.e2e.server import GatewayServer

OWNER_PAYMENT_CENTS = 5_000

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename
    id
  }
}
"""

OWN_LISTS = """
query OwnLists {
  me {
    invoices(first: 100) { edges { node { id } } }
    payments(first: 100) { edges { node { id } } }
    appointments(first: 100) { edges { node { id } } }
    paymentMethods { id }
  }
}
"""


@dataclass(frozen=True)
class TwoPatients:
    """An owner with a payment, a method and invoices, and an intruder with a card of their own."""

    owner: PatientAccount
    intruder: PatientAccount
    owner_payment_id: str
    owner_method_id: str
    intruder_method_id: str

    def owner_object_id(self, type_name: str) -> str:
        ids = {
            "Payment": self.owner_payment_id,
            "Invoice": self.owner.invoices[0].global_id,
            "PaymentMethod": self.owner_method_id,
            "Appointment": self.owner.appointment_global_id,
            "Patient": self.owner.global_id,
        }
        return ids[type_name]


OWNED_TYPES = ["Payment", "Invoice", "PaymentMethod", "Appointment", "Patient"]


async def create_two_patients(gateway: GatewayServer) -> TwoPatients:
    async with httpx.AsyncClient(base_url=gateway.base_url, trust_env=False, timeout=15) as http:
        client = GraphQLClient(http, gateway.secrets)
        owner = await create_patient(client, gateway.database_url)
        intruder = await create_patient(client, gateway.database_url)
        owner_method = await add_card(client, owner.token, VISA_CREDIT)
        intruder_method = await add_card(client, intruder.token, VISA_CREDIT)
        payment = await pay_bill(
            client,
            owner.token,
            payment_method_id=owner_method["id"],
            amount_cents=OWNER_PAYMENT_CENTS,
        )
        await wait_for_payment_status(client, owner.token, payment["id"], OUTCOME_STATUSES)
    return TwoPatients(
        owner=owner,
        intruder=intruder,
        owner_payment_id=payment["id"],
        owner_method_id=owner_method["id"],
        intruder_method_id=intruder_method["id"],
    )


@pytest.fixture(scope="module")
def two_patients(gateway: GatewayServer) -> TwoPatients:
    # The fixture is module-scoped, so it runs its own event loop because
    # pytest-asyncio closes each test's loop when the test ends.
    return asyncio.run(create_two_patients(gateway))


def raw_global_id(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def user_error_codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


@pytest.mark.parametrize("type_name", OWNED_TYPES)
async def test_owner_reads_own_node(
    graphql: GraphQLClient, two_patients: TwoPatients, type_name: str
) -> None:
    object_id = two_patients.owner_object_id(type_name)

    result = await graphql.execute(NODE, {"id": object_id}, token=two_patients.owner.token)

    assert result.get("errors") is None
    assert result["data"]["node"] == {"__typename": type_name, "id": object_id}


@pytest.mark.parametrize("type_name", OWNED_TYPES)
async def test_node_hides_other_patients_object(
    graphql: GraphQLClient, two_patients: TwoPatients, type_name: str
) -> None:
    object_id = two_patients.owner_object_id(type_name)

    result = await graphql.execute(NODE, {"id": object_id}, token=two_patients.intruder.token)

    assert result.get("errors") is None
    assert result["data"]["node"] is None


@pytest.mark.parametrize("type_name", OWNED_TYPES)
async def test_node_hides_objects_without_token(
    graphql: GraphQLClient, two_patients: TwoPatients, type_name: str
) -> None:
    object_id = two_patients.owner_object_id(type_name)

    result = await graphql.execute(NODE, {"id": object_id})

    assert result.get("errors") is None
    assert result["data"]["node"] is None


async def test_lists_exclude_other_patients_objects(
    graphql: GraphQLClient, two_patients: TwoPatients
) -> None:
    owner_ids = {two_patients.owner_object_id(type_name) for type_name in OWNED_TYPES}

    data = await graphql.data(OWN_LISTS, token=two_patients.intruder.token)

    me = data["me"]
    listed = {
        edge["node"]["id"]
        for connection in ("invoices", "payments", "appointments")
        for edge in me[connection]["edges"]
    } | {method["id"] for method in me["paymentMethods"]}
    assert listed
    assert listed.isdisjoint(owner_ids)


async def test_pay_bill_other_patients_method_not_found(
    graphql: GraphQLClient, two_patients: TwoPatients
) -> None:
    intruder = two_patients.intruder

    payload = await request_pay_bill(
        graphql, intruder.token, payment_method_id=two_patients.owner_method_id, amount_cents=1_000
    )
    summary = await fetch_account_summary(graphql, intruder.token)

    assert payload["payment"] is None
    assert user_error_codes(payload) == ["NOT_FOUND"]
    assert payload["userErrors"][0]["field"] == "paymentMethodId"
    assert summary["payments"]["edges"] == []


async def test_pay_bill_other_patients_invoices_not_found(
    graphql: GraphQLClient, two_patients: TwoPatients
) -> None:
    owner, intruder = two_patients.owner, two_patients.intruder
    owner_before = await fetch_account_summary(graphql, owner.token)

    payload = await request_pay_bill(
        graphql,
        intruder.token,
        payment_method_id=two_patients.intruder_method_id,
        invoice_ids=[invoice.global_id for invoice in owner.invoices],
    )
    owner_after = await fetch_account_summary(graphql, owner.token)

    assert payload["payment"] is None
    assert user_error_codes(payload) == ["NOT_FOUND"]
    assert payload["userErrors"][0]["field"] == "invoiceIds"
    assert owner_after["balance"] == owner_before["balance"]
    assert owner_after["invoices"] == owner_before["invoices"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscribe_other_patients_payment_fails(
    gateway: GatewayServer, two_patients: TwoPatients, protocol: str
) -> None:
    result = await subscribe(
        gateway.ws_url,
        protocol,
        PAYMENT_STATUS_CHANGED,
        {"paymentId": two_patients.owner_payment_id},
        token=two_patients.intruder.token,
    )

    assert result.events == []
    assert result.rejected is False
    assert result.error_codes == ["NOT_FOUND"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscription_without_token_rejected(
    gateway: GatewayServer, two_patients: TwoPatients, protocol: str
) -> None:
    result = await subscribe(
        gateway.ws_url,
        protocol,
        PAYMENT_STATUS_CHANGED,
        {"paymentId": two_patients.owner_payment_id},
    )

    assert result.events == []
    assert result.rejected


MALFORMED_IDS = [
    pytest.param("", id="empty"),
    pytest.param("not-a-global-id", id="not-base64"),
    pytest.param(raw_global_id("PaymentMethod"), id="no-separator"),
    pytest.param(raw_global_id("PaymentMethod:abc"), id="non-numeric"),
    pytest.param(raw_global_id("PaymentMethod:-1"), id="negative"),
    pytest.param(raw_global_id("PaymentMethod:" + "9" * 30), id="too-long"),
    pytest.param(raw_global_id("PaymentMethod:999999999"), id="unknown"),
    pytest.param(raw_global_id("Clinician:1"), id="type-without-node"),
    pytest.param(raw_global_id("Allocation:1"), id="allocation"),
]
ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def noncanonical_id(global_id: str, variant: str) -> str:
    """Spell a valid ID of the caller's own object in a form the API never issues.

    "junk-suffix" appends characters outside the base64 alphabet, which a
    lenient base64 decoder drops. "non-ascii-digits" writes the database id
    in Arabic-Indic digits, which str.isdigit accepts and int() parses.
    """
    if variant == "junk-suffix":
        return global_id + "!!"
    type_name, database_id = base64.b64decode(global_id).decode().split(":")
    return raw_global_id(f"{type_name}:{database_id.translate(ARABIC_INDIC_DIGITS)}")


NONCANONICAL_VARIANTS = ["junk-suffix", "non-ascii-digits"]


@pytest.mark.parametrize("malformed_id", MALFORMED_IDS)
async def test_node_null_for_malformed_id(
    graphql: GraphQLClient, two_patients: TwoPatients, malformed_id: str
) -> None:
    result = await graphql.execute(NODE, {"id": malformed_id}, token=two_patients.owner.token)

    assert result.get("errors") is None
    assert result["data"]["node"] is None


@pytest.mark.parametrize("variant", NONCANONICAL_VARIANTS)
async def test_node_null_for_noncanonical_id(
    graphql: GraphQLClient, two_patients: TwoPatients, variant: str
) -> None:
    malformed_id = noncanonical_id(two_patients.owner_payment_id, variant)

    result = await graphql.execute(NODE, {"id": malformed_id}, token=two_patients.owner.token)

    assert result.get("errors") is None
    assert result["data"]["node"] is None


@pytest.mark.parametrize("malformed_id", MALFORMED_IDS)
async def test_pay_bill_malformed_method_id_not_found(
    graphql: GraphQLClient, two_patients: TwoPatients, malformed_id: str
) -> None:
    payload = await request_pay_bill(
        graphql, two_patients.owner.token, payment_method_id=malformed_id, amount_cents=1_000
    )

    assert payload["payment"] is None
    assert user_error_codes(payload) == ["NOT_FOUND"]
    assert payload["userErrors"][0]["field"] == "paymentMethodId"


@pytest.mark.parametrize("variant", NONCANONICAL_VARIANTS)
async def test_pay_bill_noncanonical_method_id_not_found(
    graphql: GraphQLClient, two_patients: TwoPatients, variant: str
) -> None:
    malformed_id = noncanonical_id(two_patients.owner_method_id, variant)

    payload = await request_pay_bill(
        graphql, two_patients.owner.token, payment_method_id=malformed_id, amount_cents=1_000
    )

    assert payload["payment"] is None
    assert user_error_codes(payload) == ["NOT_FOUND"]


async def test_pay_bill_invoice_id_as_method_not_found(
    graphql: GraphQLClient, two_patients: TwoPatients
) -> None:
    owner = two_patients.owner

    payload = await request_pay_bill(
        graphql,
        owner.token,
        payment_method_id=owner.invoices[0].global_id,
        amount_cents=1_000,
    )

    assert payload["payment"] is None
    assert user_error_codes(payload) == ["NOT_FOUND"]
    assert payload["userErrors"][0]["field"] == "paymentMethodId"


async def test_pay_bill_payment_id_as_invoice_not_found(
    graphql: GraphQLClient, two_patients: TwoPatients
) -> None:
    owner = two_patients.owner

    payload = await request_pay_bill(
        graphql,
        owner.token,
        payment_method_id=two_patients.owner_method_id,
        invoice_ids=[two_patients.owner_payment_id],
    )

    assert payload["payment"] is None
    assert user_error_codes(payload) == ["NOT_FOUND"]
    assert payload["userErrors"][0]["field"] == "invoiceIds"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscription_with_invoice_id_fails(
    gateway: GatewayServer, two_patients: TwoPatients, protocol: str
) -> None:
    result = await subscribe(
        gateway.ws_url,
        protocol,
        PAYMENT_STATUS_CHANGED,
        {"paymentId": two_patients.owner.invoices[0].global_id},
        token=two_patients.owner.token,
    )

    assert result.events == []
    assert result.rejected is False
    assert result.error_codes == ["NOT_FOUND"]
