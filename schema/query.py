"""The Query root: the signed-in patient and Relay's node lookup."""

from __future__ import annotations

import strawberry
from strawberry import relay

from db import models
from db.base import Base
from schema.context import Info
from schema.ids import decode_global_id
from schema.types.appointment import Appointment
from schema.types.invoice import Invoice
from schema.types.patient import Patient
from schema.types.payment import Payment, PaymentMethod

# GraphQL type name -> (model, how to build the type). Every entry's model has
# a patient_id column, which node() checks against the caller.
_NODE_TYPES: dict[str, tuple[type[Base], type]] = {
    "Appointment": (models.Appointment, Appointment),
    "Invoice": (models.Invoice, Invoice),
    "Payment": (models.Payment, Payment),
    "PaymentMethod": (models.PaymentMethod, PaymentMethod),
}


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in patient, or null without a valid token.")
    async def me(self, info: Info) -> Patient | None:
        patient = await info.context.current_patient()
        return Patient.from_row(patient) if patient is not None else None

    @strawberry.field(
        description="Fetch any object by its global ID. Returns null for an ID that is "
        "malformed, unknown, or not yours: the three cases look the same."
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        patient = await info.context.current_patient()
        decoded = decode_global_id(id)
        if patient is None or decoded is None:
            return None
        type_name, database_id = decoded

        if type_name == "Patient":
            return Patient.from_row(patient) if database_id == patient.id else None
        if type_name not in _NODE_TYPES:
            return None
        model, graphql_type = _NODE_TYPES[type_name]
        async with info.context.database.session() as session:
            row = await session.get(model, database_id)
        if row is None or getattr(row, "patient_id", None) != patient.id:
            return None
        return graphql_type.from_row(row)  # type: ignore[attr-defined,no-any-return]
