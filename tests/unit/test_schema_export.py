"""schema.graphql at the repository root is the schema the code builds."""

from __future__ import annotations

from pathlib import Path

from schema.build import build_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_exported_schema_is_current() -> None:
    exported = SCHEMA_FILE.read_text()

    assert exported == build_schema().as_str() + "\n", "schema.graphql is stale: run `make schema`"


def test_schema_keeps_published_names() -> None:
    sdl = build_schema().as_str()

    for fragment in [
        "me: Patient",
        "node(id: ID!): Node",
        "paymentStatusChanged(paymentId: ID!): PaymentEvent!",
        "payBill(input: PayBillInput!): PayBillPayload!",
        "addPaymentMethod(input: AddPaymentMethodInput!): AddPaymentMethodPayload!",
        "signUp(input: SignUpInput!): AuthPayload!",
        "logIn(input: LogInInput!): AuthPayload!",
        "logOut: LogOutPayload!",
        "expectedSettlementOn: Date",
        "statementDescriptor: String!",
    ]:
        assert fragment in sdl
