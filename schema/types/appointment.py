"""Appointments and the clinicians who hold them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from db import models
from schema.context import Info
from schema.enums import AppointmentKind, AppointmentModality, AppointmentStatus
from schema.permissions import ReadPatients

if TYPE_CHECKING:
    from schema.types.invoice import Invoice


@strawberry.type
class Clinician:
    name: str
    credentials: str = strawberry.field(description='Licence or degree, such as "LCSW".')


@strawberry.type
class Appointment(relay.Node):
    id: relay.NodeID[int]
    starts_at: datetime
    ends_at: datetime
    kind: AppointmentKind
    modality: AppointmentModality
    status: AppointmentStatus
    clinician_id: strawberry.Private[int]
    patient_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Appointment) -> Appointment:
        return cls(
            id=row.id,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            kind=row.kind,
            modality=row.modality,
            status=row.status,
            clinician_id=row.clinician_id,
            patient_id=row.patient_id,
        )

    @strawberry.field(permission_classes=[ReadPatients])
    async def clinician(self, info: Info) -> Clinician | None:
        row = await info.context.loaders.clinician.load(self.clinician_id)
        if row is None:
            raise LookupError(
                f"appointment {self.id} refers to missing clinician {self.clinician_id}"
            )
        return Clinician(name=row.name, credentials=row.credentials)

    @strawberry.field(
        description="The invoice billing this appointment, once issued.",
        permission_classes=[ReadPatients],
    )
    async def invoice(
        self, info: Info
    ) -> Annotated[Invoice, strawberry.lazy("schema.types.invoice")] | None:
        from schema.types.invoice import Invoice

        row = await info.context.loaders.invoice_for_appointment.load(self.id)
        return Invoice.from_row(row) if row is not None else None
