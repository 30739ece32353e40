"""Paged lists: a patient's appointments and invoices, payments, and patients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utc_now
from db.enums import InvoiceStatus, PaymentMethodType, PaymentStatus
from db.models import Appointment, AuditEvent, Invoice, Patient, Payment
from resolvers.errors import InvalidInputError
from resolvers.pagination import Page, SortKey, fetch_page

UPCOMING_APPOINTMENTS = (SortKey(Appointment.starts_at), SortKey(Appointment.id))
PAST_APPOINTMENTS = (
    SortKey(Appointment.starts_at, descending=True),
    SortKey(Appointment.id, descending=True),
)
INVOICES_NEWEST_FIRST = (
    SortKey(Invoice.due_on, descending=True),
    SortKey(Invoice.id, descending=True),
)
PAYMENTS_NEWEST_FIRST = (
    SortKey(Payment.created_at, descending=True),
    SortKey(Payment.id, descending=True),
)


@dataclass(frozen=True)
class PaymentFilter:
    statuses: Sequence[PaymentStatus] | None = None
    method_types: Sequence[PaymentMethodType] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    confirmation_number: str | None = None


async def list_appointments(
    session: AsyncSession,
    patient_id: int,
    *,
    first: int | None,
    after: str | None,
    upcoming: bool | None,
) -> Page[Appointment]:
    """List appointments: upcoming ones soonest first, otherwise most recent first."""
    query = select(Appointment).where(Appointment.patient_id == patient_id)
    keys = PAST_APPOINTMENTS
    if upcoming is True:
        query = query.where(Appointment.starts_at >= utc_now())
        keys = UPCOMING_APPOINTMENTS
    elif upcoming is False:
        query = query.where(Appointment.starts_at < utc_now())
    return await fetch_page(session, query, keys, first=first, after=after)


async def list_invoices(
    session: AsyncSession,
    patient_id: int,
    *,
    first: int | None,
    after: str | None,
    statuses: Sequence[InvoiceStatus] | None,
) -> Page[Invoice]:
    query = select(Invoice).where(Invoice.patient_id == patient_id)
    if statuses:
        query = query.where(Invoice.status.in_(statuses))
    return await fetch_page(session, query, INVOICES_NEWEST_FIRST, first=first, after=after)


async def list_payments(
    session: AsyncSession,
    patient_id: int | None,
    *,
    first: int | None,
    after: str | None,
    filters: PaymentFilter,
) -> Page[Payment]:
    """List payments newest first, of one patient or (``patient_id`` None) of all.

    ``created_from`` is inclusive and ``created_to`` exclusive.
    """
    for name, value in (("from", filters.created_from), ("to", filters.created_to)):
        if value is None:
            continue
        if value.tzinfo is None:
            raise InvalidInputError(
                f"{name} has no time zone; send an ISO 8601 time with an offset, such as Z.",
                field=name,
            )
        try:
            value.astimezone(UTC)
        except OverflowError as error:
            raise InvalidInputError(
                f"{name} is outside the years 1 to 9999 once converted to UTC; send a nearer time.",
                field=name,
            ) from error
    if (
        filters.created_from is not None
        and filters.created_to is not None
        and filters.created_from > filters.created_to
    ):
        raise InvalidInputError(
            "from is later than to; swap them, or leave one out for an open range.", field="from"
        )
    query = select(Payment)
    if filters.confirmation_number is not None:
        query = query.where(
            Payment.confirmation_number == filters.confirmation_number.strip().upper()
        )
    if patient_id is not None:
        query = query.where(Payment.patient_id == patient_id)
    if filters.statuses:
        query = query.where(Payment.status.in_(filters.statuses))
    if filters.method_types:
        query = query.where(Payment.method_type.in_(filters.method_types))
    if filters.created_from is not None:
        query = query.where(Payment.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Payment.created_at < filters.created_to)
    return await fetch_page(session, query, PAYMENTS_NEWEST_FIRST, first=first, after=after)


PATIENTS_BY_NAME = (SortKey(Patient.name), SortKey(Patient.id))
MAX_SEARCH_LENGTH = 200


async def list_patients(
    session: AsyncSession, *, first: int | None, after: str | None, search: str | None
) -> Page[Patient]:
    """List patients by name; ``search`` matches part of a name or email, ignoring case."""
    query = select(Patient)
    if search is not None and search.strip():
        term = search.strip()
        if len(term) > MAX_SEARCH_LENGTH:
            raise InvalidInputError(
                f"search is longer than {MAX_SEARCH_LENGTH} characters; shorten it.",
                field="search",
            )
        # Escape LIKE's wildcards so a search for "_" or "%" finds those characters.
        escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                func.lower(Patient.name).like(pattern, escape="\\"),
                Patient.email.like(pattern, escape="\\"),
            )
        )
    return await fetch_page(session, query, PATIENTS_BY_NAME, first=first, after=after)


AUDIT_NEWEST_FIRST = (SortKey(AuditEvent.id, descending=True),)


async def list_audit_events(
    session: AsyncSession,
    *,
    first: int | None,
    after: str | None,
    patient_id: int | None,
    actor: str | None,
) -> Page[AuditEvent]:
    """List audit rows newest first, optionally for one patient or one actor ("staff:3")."""
    query = select(AuditEvent)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    return await fetch_page(session, query, AUDIT_NEWEST_FIRST, first=first, after=after)
