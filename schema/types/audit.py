"""The audit log as auditors read it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from db import models
from resolvers import listings
from resolvers.errors import BillingError, ForbiddenError
from resolvers.principals import Role
from schema.context import Info
from schema.errors import ClientError
from schema.ids import database_id_or_missing, encode_global_id
from schema.types.connections import to_connection


@strawberry.type(description="One read of a patient's records, or one change to money.")
class AuditEvent(relay.Node):
    id: relay.NodeID[int]
    occurred_at: datetime
    role: str = strawberry.field(description="PATIENT, STAFF or PARTNER.")
    actor: str = strawberry.field(description='Who acted, e.g. "staff:3" or "api_key:7".')
    operation: str = strawberry.field(description="The GraphQL operation or field, e.g. payBill.")
    action: str = strawberry.field(
        description="READ, PAYMENT_CREATED, REFUND_CREATED, PAYMENT_METHOD_ADDED or "
        "PAYMENT_METHOD_REMOVED."
    )
    client_address: str | None
    request_id: str | None
    patient_db_id: strawberry.Private[int | None]
    payment_db_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.AuditEvent) -> AuditEvent:
        return cls(
            id=row.id,
            occurred_at=row.occurred_at,
            role=row.role,
            actor=row.actor,
            operation=row.operation,
            action=row.action,
            client_address=row.client_address,
            request_id=row.request_id,
            patient_db_id=row.patient_id,
            payment_db_id=row.payment_id,
        )

    @strawberry.field(description="Global ID of the patient whose records were involved.")
    def patient_id(self) -> strawberry.ID | None:
        if self.patient_db_id is None:
            return None
        return strawberry.ID(encode_global_id("Patient", self.patient_db_id))

    @strawberry.field(description="Global ID of the payment involved, if any.")
    def payment_id(self) -> strawberry.ID | None:
        if self.payment_db_id is None:
            return None
        return strawberry.ID(encode_global_id("Payment", self.payment_db_id))


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The audit log, newest first. Only staff with the auditor flag may read it."
    )
    async def audit_log(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        patient_id: strawberry.ID | None = None,
        actor: Annotated[
            str | None, strawberry.argument(description='Only this actor, e.g. "staff:3".')
        ] = None,
    ) -> relay.Connection[AuditEvent]:
        try:
            principal = await info.context.require_principal()
            if principal.role is not Role.STAFF or not principal.is_auditor:
                raise ForbiddenError("Only staff with the auditor flag can read the audit log.")
            async with info.context.database.session() as session:
                page = await listings.list_audit_events(
                    session,
                    first=first,
                    after=after,
                    patient_id=(
                        database_id_or_missing(patient_id, "Patient") if patient_id else None
                    ),
                    actor=actor,
                )
        except BillingError as error:
            raise ClientError(error) from error
        return to_connection(page, AuditEvent.from_row)
