"""The Query root: the signed-in principal, Relay's node lookup, and staff listings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from db import models
from db.base import Base
from resolvers import listings
from resolvers.errors import BillingError
from resolvers.payment_events import latest_visible_event_id
from resolvers.principals import Role, Scope
from schema.context import Info
from schema.enums import PaymentMethodType, PaymentStatus
from schema.errors import ClientError
from schema.ids import MISSING_ID, database_id_or_missing, decode_global_id, encode_event_cursor
from schema.types.appointment import Appointment
from schema.types.audit import AuditQueries
from schema.types.connections import to_connection
from schema.types.invoice import Invoice
from schema.types.patient import AFTER_DESCRIPTION, FIRST_DESCRIPTION, Patient
from schema.types.payment import Payment, PaymentMethod
from schema.types.viewer import Viewer

# GraphQL type name -> (model, how to build the type, scope needed to read it).
_NODE_TYPES: dict[str, tuple[type[Base], type, Scope]] = {
    "Patient": (models.Patient, Patient, Scope.PATIENTS_READ),
    "Appointment": (models.Appointment, Appointment, Scope.PATIENTS_READ),
    "Invoice": (models.Invoice, Invoice, Scope.PATIENTS_READ),
    "Payment": (models.Payment, Payment, Scope.PAYMENTS_READ),
    "PaymentMethod": (models.PaymentMethod, PaymentMethod, Scope.PAYMENTS_READ),
}


@strawberry.input(description="Narrows the payments list; every field is optional.")
class PaymentFilter:
    status: list[PaymentStatus] | None = None
    method_type: list[PaymentMethodType] | None = None
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Created at or after this time."
    )
    to: datetime | None = strawberry.field(default=None, description="Created before this time.")
    patient_id: strawberry.ID | None = None
    confirmation_number: str | None = strawberry.field(
        default=None, description="The code a patient quotes, e.g. CGH-7KQ2-M9XA."
    )


def _owner_of(row: Base) -> int:
    return row.id if isinstance(row, models.Patient) else row.patient_id  # type: ignore[attr-defined]


@strawberry.type
class Query(AuditQueries):
    @strawberry.field(description="The signed-in patient, or null without a patient's token.")
    async def me(self, info: Info) -> Patient | None:
        principal = await info.context.principal()
        if principal is None or principal.role is not Role.PATIENT:
            return None
        async with info.context.database.session() as session:
            row = await session.get(models.Patient, principal.actor_id)
        return Patient.from_row(row) if row is not None else None

    @strawberry.field(description="Who the request is signed in as, or null without a valid token.")
    async def viewer(self, info: Info) -> Viewer | None:
        principal = await info.context.principal()
        return Viewer.from_principal(principal) if principal is not None else None

    @strawberry.field(
        description="Fetch any object by its global ID. Returns null for an ID that is "
        "malformed, unknown, or not yours: the three cases look the same. An API key "
        "without the scope for that type gets FORBIDDEN."
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        principal = await info.context.principal()
        decoded = decode_global_id(id)
        if principal is None or decoded is None or decoded[0] not in _NODE_TYPES:
            return None
        type_name, database_id = decoded
        model, graphql_type, scope = _NODE_TYPES[type_name]

        # The scope is checked before the lookup, so FORBIDDEN reveals nothing
        # about whether the object exists.
        try:
            principal.require_scope(scope)
        except BillingError as error:
            raise ClientError(error) from error
        async with info.context.database.session() as session:
            row = await session.get(model, database_id)
        if row is None or not principal.can_access(scope, _owner_of(row)):
            return None
        info.context.note_patient_read(_owner_of(row))
        return graphql_type.from_row(row)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(
        description="Patients by name, for staff and for API keys with patients:read. "
        "search matches part of a name or email, ignoring case."
    )
    async def patients(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        search: str | None = None,
    ) -> relay.Connection[Patient]:
        try:
            principal = await info.context.require_principal()
            principal.require_role(Role.STAFF, Role.PARTNER, action="list patients")
            principal.require_scope(Scope.PATIENTS_READ)
            async with info.context.database.session() as session:
                page = await listings.list_patients(
                    session, first=first, after=after, search=search
                )
        except BillingError as error:
            raise ClientError(error) from error
        for row in page.rows:
            info.context.note_patient_read(row.id)
        return to_connection(page, Patient.from_row)

    @strawberry.field(
        description="Payments newest first: every patient's for staff and for API keys with "
        "payments:read, a patient's own otherwise."
    )
    async def payments(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        filter: PaymentFilter | None = None,
    ) -> relay.Connection[Payment]:
        filter = filter or PaymentFilter()
        try:
            principal = await info.context.require_principal()
            principal.require_scope(Scope.PAYMENTS_READ)
            patient_id = None
            if filter.patient_id is not None:
                patient_id = database_id_or_missing(filter.patient_id, "Patient")
            if principal.role is Role.PATIENT:
                # A patient naming someone else's id gets an empty list, as for an unknown id.
                patient_id = (
                    principal.actor_id if patient_id in (None, principal.actor_id) else MISSING_ID
                )
            filters = listings.PaymentFilter(
                statuses=filter.status,
                method_types=filter.method_type,
                created_from=filter.from_,
                created_to=filter.to,
                confirmation_number=filter.confirmation_number,
            )
            async with info.context.database.session() as session:
                page = await listings.list_payments(
                    session, patient_id, first=first, after=after, filters=filters
                )
        except BillingError as error:
            raise ClientError(error) from error
        for row in page.rows:
            info.context.note_patient_read(row.patient_id)
        return to_connection(page, Payment.from_row)

    @strawberry.field(
        description="The cursor of the newest payment event you may see, or null if there is "
        "none. Pass it to paymentEvents(after:) to follow events from now on instead of "
        "replaying the history."
    )
    async def latest_payment_event_cursor(self, info: Info) -> str | None:
        try:
            principal = await info.context.require_principal()
            async with info.context.database.session() as session:
                event_id = await latest_visible_event_id(session, principal)
        except BillingError as error:
            raise ClientError(error) from error
        return encode_event_cursor(event_id) if event_id is not None else None
